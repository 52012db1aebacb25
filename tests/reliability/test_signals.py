"""SIGINT, SIGTERM, SIGHUP to a headless training (issue item 7).

The real CLI (``savi_tui.cli.main``, its signal handlers included) trains one
experiment in children of a fork server: stopped by SIGINT in epoch 2, resumed
and stopped by SIGTERM, resumed and stopped by SIGHUP twice (the second, sent
once the first is handled, exits at once), then resumed to the end. Each single
signal must save at a batch boundary soon after it lands and exit 128+signal;
the finished run must equal an uninterrupted one bit for bit, every parameter
and optimizer tensor compared with ``torch.equal``.
"""

from __future__ import annotations

import json
import os
import signal
import time

from reliability_support import ForkServer, assert_same_state, make_datasets_root

from savi_tui.core.checkpoint import load_checkpoint

EPOCHS = 3
BATCH = 2
TRAIN = 2048  # 1024 batches an epoch, about 0.4 s on one thread: a signal lands inside one


def _interrupt(server: ForkServer, argv: list[str], after: str, signals: list[signal.Signals], status):
    """Train, wait for the stderr line ``after``, send ``signals``; the state saved and how soon."""
    before = load_checkpoint(status) if status.exists() else None
    pid = server.fork("cli " + json.dumps(argv))
    server.wait_stderr(after)
    time.sleep(0.1)  # into the next batches
    sent = time.monotonic()
    os.kill(pid, signals[0])
    latency = 0.0
    if len(signals) > 1:  # the second once the first is handled (two at once merge into one)
        server.wait_stderr("stopping after this batch")
        os.kill(pid, signals[1])
        server.wait_stderr("second signal, exiting now")
    else:
        latency = server.wait_stderr("Saved in epoch") - sent
        server.wait_stderr("Resume with: savi-tui train --resume sig -ep ")
    assert server.exit_code(pid) == 128 + signals[0], server.stderr_seen
    state = load_checkpoint(status)
    assert 0 <= state.batch_idx < TRAIN // BATCH
    if before is not None:  # the saved position never goes back
        assert (state.epoch_idx, state.batch_idx) >= (before.epoch_idx, before.batch_idx)
    return state, latency


def test_each_signal_saves_at_a_batch_and_the_resumed_run_is_bit_identical(tmp_path, record_property):
    datasets = make_datasets_root(tmp_path, train=TRAIN, test=64)
    root = tmp_path / "experiments"
    common = ["-ep", str(root), "--datasets-root", str(datasets)]
    status = root / "sig" / "status.pkl"
    first = ["train", "-n", "sig", "-ne", str(EPOCHS), "-bs", str(BATCH), *common]
    resume = ["train", "--resume", "sig", *common]
    stops = {}
    server = ForkServer(cpus=1)  # one thread: quick on a busy machine, and the same for every run
    try:
        stops["SIGINT"] = _interrupt(server, first, "epoch 1/", [signal.SIGINT], status)
        stops["SIGTERM"] = _interrupt(server, resume, "resuming at epoch", [signal.SIGTERM], status)
        hangup_stops = [*resume, "--on-hangup", "stop"]  # the default would go on in the background
        stops["SIGHUP"] = _interrupt(server, hangup_stops, "resuming at epoch", [signal.SIGHUP], status)
        _interrupt(server, resume, "resuming at epoch", [signal.SIGINT, signal.SIGINT], status)
        assert server.exit_code(server.fork("cli " + json.dumps(resume))) == 0, server.stderr_seen
        reference_root = tmp_path / "reference"  # the same training, never interrupted
        reference = [*first[:-4], "-ep", str(reference_root), "--datasets-root", str(datasets)]
        assert server.exit_code(server.fork("cli " + json.dumps(reference))) == 0, server.stderr_seen
    finally:
        server.close()
    for name in ("status.pkl", "best.pkl"):
        assert_same_state(load_checkpoint(root / "sig" / name), load_checkpoint(reference_root / "sig" / name))
    summary = "; ".join(
        f"{name} saved {state.position(TRAIN // BATCH).describe()}, {seconds * 1000:.0f} ms after it"
        for name, (state, seconds) in stops.items()
    )
    record_property("signal_summary", summary)
    print(f"\n{summary}")
    assert all(seconds < 2.0 for _, seconds in stops.values()), summary
