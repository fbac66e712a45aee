"""Mailbox ordering."""

from __future__ import annotations

import pytest

from gatasker._constants import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL
from gatasker._mailbox import HeapMailbox, Mailbox


def test_fifo_when_all_normal() -> None:
    box = Mailbox()
    for i in range(100):
        box.push(i)
    assert len(box) == 100 and list(box.drain()) == list(range(100)) and len(box) == 0


def test_priorities_jump_ahead_and_stay_fifo_within() -> None:
    box = Mailbox()
    for i, priority in enumerate([TASK_NORMAL, TASK_LOW, TASK_HIGH, TASK_NORMAL, TASK_HIGH,
                                  TASK_CRITICAL, TASK_LOW]):
        box.push(i, priority)
    assert list(box.drain()) == [5, 2, 4, 0, 3, 1, 6]
    with pytest.raises(IndexError):
        box.pop()


def test_heap_mailbox_smallest_first_fifo_among_equals() -> None:
    box = HeapMailbox()
    for item in [(3, 'c'), (1, 'a'), (2, 'b'), (1, 'a')]:
        box.push(item)
    assert list(box.drain()) == [(1, 'a'), (1, 'a'), (2, 'b'), (3, 'c')]


def test_heap_mailbox_rejects_incomparable_items_at_put() -> None:
    box = HeapMailbox()
    box.push(1)
    with pytest.raises(TypeError):
        box.push('one')
    assert list(box.drain()) == [1]


def test_len_and_truth_count_every_priority_and_direct_normal_use() -> None:
    mailbox = Mailbox()
    assert not mailbox and len(mailbox) == 0
    mailbox.normal.append('told')  # the actor's fast path
    assert mailbox and len(mailbox) == 1
    mailbox.push('urgent', TASK_HIGH)
    assert len(mailbox) == 2
    assert list(mailbox.drain()) == ['urgent', 'told']
    assert not mailbox and len(mailbox) == 0
    mailbox.push('later', TASK_LOW)
    assert mailbox and mailbox.pop() == 'later' and not mailbox
