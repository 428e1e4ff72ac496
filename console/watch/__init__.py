"""The watcher: rechecks, on its own schedule, the agencies nobody should have to remember.

`schedule` decides who is due when (pure); `lock` keeps one watcher per store; `loop` runs the
rechecks through the same `Runner` a scan uses and records "fixed — verified by recheck".
"""
