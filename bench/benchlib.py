"""Shared pieces of the whole-process benchmarks (pipelines.py, ids.py)."""
import os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def publish():
    """Publishes src/ClickOS.Cli with NativeAOT into bench/.dist; returns the executable."""
    out = os.path.join(ROOT, "bench", ".dist")
    subprocess.run(["dotnet", "publish", os.path.join(ROOT, "src", "ClickOS.Cli"), "-c", "Release", "-o", out],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "clickos")

def run(cmd):
    """Runs cmd; returns (wall seconds, user+system CPU seconds, max RSS in KB, stdout). Uses
    posix_spawn, so the child is not a fork of this Python process; exits if cmd fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        pid = os.posix_spawnp(cmd[0], cmd, os.environ,
                              file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        o, e = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd[:3])} ...\n{e}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, o
