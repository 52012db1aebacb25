"""events.jsonl: the trainer appends, any reader follows, whatever state the file is in."""

from __future__ import annotations

import json
import os

from savi_tui.core import events as ev
from savi_tui.core.run_log import RunLogReader, RunLogWriter

RECORD = ev.EpochRecord(1, 0.5, 0.4, 0.9, 0.9, 10.0)
STARTED = ev.RunStarted("run", "ModelConvNet", "cpu", 3, 1, 0, 100, 6400, 1000)


def progress(batch: int, epoch: int = 1) -> ev.BatchProgress:
    return ev.BatchProgress(epoch, batch, 100, 0.5, 1000.0)


def test_a_reader_gets_each_event_once_as_the_writer_appends(tmp_path):
    path = tmp_path / "events.jsonl"
    writer, reader = RunLogWriter(path), RunLogReader(path)
    writer.start()
    writer.write(STARTED)
    assert reader.read().events == [STARTED]
    writer.write(ev.EpochFinished(RECORD, True, 1))
    writer.write(ev.Message("hello"))
    assert reader.read().events == [ev.EpochFinished(RECORD, True, 1), ev.Message("hello")]
    assert reader.read().events == []
    writer.close()


def test_progress_is_kept_about_once_a_second_but_an_epoch_end_always(tmp_path):
    path = tmp_path / "events.jsonl"
    writer = RunLogWriter(path)
    writer.start()
    writer.write(STARTED)
    for batch in range(1, 101):  # all within a second
        writer.write(progress(batch))
    writer.close()
    kept = [e.batch for e in RunLogReader(path).read().events if isinstance(e, ev.BatchProgress)]
    assert kept == [1, 100]


def test_a_torn_last_line_waits_for_its_end_and_garbage_is_counted_not_fatal(tmp_path):
    path = tmp_path / "events.jsonl"
    line = json.dumps({"t": 1.0, **ev.event_to_dict(ev.Message("whole"))})
    path.write_text(line + "\nnot json at all\n" + line[:20])  # a writer killed mid-line
    reader = RunLogReader(path)
    first = reader.read()
    assert first.events == [ev.Message("whole")] and first.bad_lines == 1
    with open(path, "a") as handle:
        handle.write(line[20:] + "\n")
    assert reader.read().events == [ev.Message("whole")]
    assert reader.last_problem.startswith("events.jsonl: a line is not an event")


def test_a_new_run_truncating_the_log_is_read_from_its_start(tmp_path):
    path = tmp_path / "events.jsonl"
    writer, reader = RunLogWriter(path), RunLogReader(path)
    writer.start()
    writer.write(STARTED)
    writer.write(ev.Message("a long line " * 20))
    reader.read()
    writer.start()  # the next run (a resume) begins the file anew
    writer.write(ev.Message("second run"))
    read = reader.read()
    assert read.restarted and read.events == [ev.Message("second run")]


def test_a_log_past_its_size_starts_again_with_the_history_so_far(tmp_path):
    path = tmp_path / "events.jsonl"
    writer, reader = RunLogWriter(path, max_bytes=300), RunLogReader(path)
    writer.start()
    writer.write(STARTED)
    writer.write(ev.EpochFinished(RECORD, True, 1))
    reader.read()
    writer.write(progress(100, epoch=2))  # the file is past 300 bytes: replaced
    read = reader.read()
    assert read.restarted
    started, latest = read.events
    assert started.history == (RECORD,) and started.best_epoch == 1
    assert (started.start_epoch, started.start_batch) == (2, 100)
    assert latest == progress(100, epoch=2)
    assert os.path.getsize(path) < 600


def test_a_missing_log_reads_as_nothing_yet(tmp_path):
    read = RunLogReader(tmp_path / "events.jsonl").read()
    assert read.events == [] and not read.restarted and read.bad_lines == 0
