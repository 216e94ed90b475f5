"""The run loop (rollout -> credit -> update -> log -> checkpoint) and what runs beside it: callbacks, live
phase detection, the paper's instruments, checkpoints, several processes."""
