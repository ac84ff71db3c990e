"""Every write of the monitoring side; tasks, views, the sweep and the receivers call only these.

The modules stand in layers, each importing only those below it (tests/architecture checks that no
import circle exists): alerts, email, deadlines and waiting (the rules); periods (measuring); overdue
(what happens at a deadline); policy; sweep. Nothing is re-exported here, so importing one module
never runs the others.
"""
