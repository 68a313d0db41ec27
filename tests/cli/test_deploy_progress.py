"""The deploy's bars say what a running phase has left: at a thousand servers the keys and the
requests take minutes, and elapsed time alone did not say how many."""

from __future__ import annotations

from rich.progress import Progress

from lyncpki.cli.deploy_command import _Left


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_running_phase_says_what_it_has_left_and_a_finished_one_says_nothing() -> None:
    clock = Clock()
    progress = Progress(get_time=clock, disable=True)
    task = progress.add_task("keys", total=1000)
    left = _Left()
    assert left.render(progress.tasks[0]).plain == ""  # no pace yet: no guess
    for _ in range(10):  # 10 keys a second for 10 seconds
        clock.now += 1.0
        progress.advance(task, 10)
    said = left.render(progress.tasks[0]).plain
    assert said == "0:01:30 left", said  # 900 keys to go at 10 a second
    progress.update(task, completed=1000)
    clock.now += 1.0
    assert left.render(progress.tasks[0]).plain == ""
