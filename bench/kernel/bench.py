"""Kernel latency, unetlab against ipykernel, side by side in one run.

Measures, for each kernel:
  startup   time from launching the process to the kernel_info_reply
            (median over --starts launches, alternating the two kernels);
  first     time from launching to the execute_reply of the first `1+1`
            (includes whatever the kernel starts lazily, e.g. a worker);
  rtt       round trip of execute_request `1+1` to its execute_reply
            (median of --n after --warmup, the two kernels running side by
            side and served in turns), and to the iopub status idle that
            closes it.
and prints a table with the ratios unetlab / ipykernel (goal: <= 0.3).

Both kernels see the user's usual environment (ipykernel its ~/.ipython);
the machine's load shows in both columns alike, since launches alternate.
The client is lean on purpose (raw pyzmq sockets, jupyter_client's Session
for signing) so its own overhead weighs little against either kernel.

Run with Debian's python, which has ipykernel and jupyter_client:
  /usr/bin/python3 bench/kernel/bench.py --bin bin/unetlab
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import zmq
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session


class Kernel:
    """One kernel process and the client sockets to it."""

    def __init__(self, argv_for, workdir):
        self.conn_file = os.path.join(workdir, f"kernel-{uuid.uuid4().hex}.json")
        _, info = write_connection_file(self.conn_file, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
        self.info = info
        self.session = Session(key=info["key"].encode() if isinstance(info["key"], str) else info["key"],
                               signature_scheme=info["signature_scheme"])
        self.argv = argv_for(self.conn_file)
        self.ctx = zmq.Context.instance()
        url = f"tcp://{info['ip']}:"
        self.shell = self.ctx.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.connect(url + str(info["shell_port"]))
        self.control = self.ctx.socket(zmq.DEALER)
        self.control.linger = 0
        self.control.connect(url + str(info["control_port"]))
        self.iopub = self.ctx.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(url + str(info["iopub_port"]))
        self.proc = None

    def launch(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def request(self, sock, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(sock, msg)
        return msg["header"]["msg_id"]

    def recv(self, sock, timeout):
        if not sock.poll(timeout * 1000):
            raise TimeoutError(f"{' '.join(self.argv[:2])}: no message within {timeout} s")
        _, frames = self.session.feed_identities(sock.recv_multipart(copy=True), copy=True)
        return self.session.deserialize(frames, content=True, copy=True)

    def reply_to(self, sock, msg_id, timeout=60):
        while True:
            msg = self.recv(sock, timeout)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def idle_of(self, msg_id, timeout=60):
        while True:
            msg = self.recv(self.iopub, timeout)
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"):
                return msg

    def execute(self, code):
        return self.request(self.shell, "execute_request",
                            {"code": code, "silent": False, "store_history": True,
                             "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})

    def close(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.request(self.control, "shutdown_request", {"restart": False})
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        for s in (self.shell, self.control, self.iopub):
            s.close()
        try:
            os.remove(self.conn_file)
        except OSError:
            pass


def measure_startup(argv_for, workdir):
    """Returns (seconds to kernel_info_reply, seconds to the first 1+1 reply)."""
    k = Kernel(argv_for, workdir)
    try:
        t0 = time.perf_counter()
        k.launch()
        mid = k.request(k.shell, "kernel_info_request", {})
        k.reply_to(k.shell, mid)
        t_info = time.perf_counter() - t0
        eid = k.execute("1+1")
        rep = k.reply_to(k.shell, eid)
        t_first = time.perf_counter() - t0
        if rep["content"]["status"] != "ok":
            raise RuntimeError(f"{k.argv[0]}: 1+1 failed: {rep['content']}")
        return t_info, t_first
    finally:
        k.close()


def measure_rtt(argv_fors, workdir, n, warmup):
    """Runs the kernels side by side, alternating one `1+1` on each, and
    returns per kernel the seconds from execute_request to execute_reply
    and to the status idle."""
    ks = {name: Kernel(argv_for, workdir) for name, argv_for in argv_fors.items()}
    try:
        for k in ks.values():
            k.launch()
        for k in ks.values():
            mid = k.request(k.shell, "kernel_info_request", {})
            k.reply_to(k.shell, mid)
        time.sleep(0.3)  # let iopub's subscription settle
        to_reply = {name: [] for name in ks}
        to_idle = {name: [] for name in ks}
        for i in range(warmup + n):
            for name, k in ks.items():
                t0 = time.perf_counter()
                mid = k.execute("1+1")
                rep = k.reply_to(k.shell, mid)
                t1 = time.perf_counter()
                k.idle_of(mid)
                t2 = time.perf_counter()
                if rep["content"]["status"] != "ok":
                    raise RuntimeError(f"{k.argv[0]}: 1+1 failed: {rep['content']}")
                if i >= warmup:
                    to_reply[name].append(t1 - t0)
                    to_idle[name].append(t2 - t0)
        return to_reply, to_idle
    finally:
        for k in ks.values():
            k.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="bin/unetlab", help="the unetlab binary")
    ap.add_argument("--starts", type=int, default=10, help="launches per kernel for the startup median")
    ap.add_argument("-n", type=int, default=200, help="timed 1+1 round trips per kernel")
    ap.add_argument("--warmup", type=int, default=20, help="untimed round trips first")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    unetlab = os.path.abspath(args.bin)
    if not os.access(unetlab, os.X_OK):
        sys.exit(f"bench.py: no unetlab binary at {unetlab} (go build -o bin/unetlab ./cmd/unetlab)")
    try:
        import ipykernel
    except ImportError:
        sys.exit(f"bench.py: {sys.executable} lacks ipykernel (Debian: apt-get install python3-ipykernel)")

    kernels = {
        "ipykernel": lambda cf: [sys.executable, "-m", "ipykernel_launcher", "-f", cf],
        "unetlab": lambda cf: [unetlab, "kernel", cf],
    }
    env_note = f"ipykernel {ipykernel.__version__} on {sys.executable} {sys.version.split()[0]}"

    startup = {name: [] for name in kernels}
    first = {name: [] for name in kernels}
    with tempfile.TemporaryDirectory() as workdir:
        os.environ.setdefault("JUPYTER_RUNTIME_DIR", workdir)
        for _ in range(args.starts):  # alternate so drift hits both alike
            for name, argv_for in kernels.items():
                a, b = measure_startup(argv_for, workdir)
                startup[name].append(a)
                first[name].append(b)
        rtt, idle = measure_rtt(kernels, workdir, args.n, args.warmup)

    med = statistics.median
    rows = [
        ("launch -> kernel_info_reply", f"median of {args.starts}", startup),
        ("launch -> first 1+1 reply", f"median of {args.starts}", first),
        ("execute 1+1 -> execute_reply", f"median of {args.n}", rtt),
        ("execute 1+1 -> status idle", f"median of {args.n}", idle),
    ]
    print(f"kernel latency, {os.cpu_count()} CPUs; {env_note}")
    print(f"{'measure':<30} {'':<14} {'ipykernel':>11} {'unetlab':>11} {'ratio':>7}")
    figures = {}
    for label, how, data in rows:
        a, b = med(data["ipykernel"]), med(data["unetlab"])
        figures[label] = {"ipykernel_s": a, "unetlab_s": b, "ratio": b / a}
        print(f"{label:<30} {how:<14} {a*1000:>9.2f}ms {b*1000:>9.2f}ms {b/a:>7.2f}")
    print("goal: ratio <= 0.30 for launch -> kernel_info_reply and execute 1+1 -> execute_reply")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
