-- wrk: POST pre-signed distinct bodies, each thread its own slice, never the same body twice.
-- BENCH_WRK_DATA: a Lua file returning {{body, signature}, ...}; BENCH_WRK_THREADS: wrk's -t.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  bodies = dofile(os.getenv("BENCH_WRK_DATA"))
  step = tonumber(os.getenv("BENCH_WRK_THREADS"))
  idx = tid
  wrapped = 0
end

function request()
  local item = bodies[idx]
  idx = idx + step
  if idx > #bodies then
    idx = tid
    wrapped = wrapped + 1
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = item[2]}, item[1])
end
