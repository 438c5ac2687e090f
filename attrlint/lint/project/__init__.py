"""The project-wide phase: runs once every file's facts are known (key governance, wrapper
call sites), from an explicit `ProjectContext`."""
