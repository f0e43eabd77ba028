"""PySide6 6.12.0 on Python 3.11 aborts the process after a few hundred Signal.emit() calls
(Fatal Python error: bool_dealloc). This test emits thousands in one process; on a broken
build it takes the whole run down, which is the point."""
import threading

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot


class Emitter(QObject):
    value = Signal(object)
    flag = Signal(bool)


class Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0
        self.flags = 0

    @Slot(object)
    def on_value(self, v):
        self.count += 1

    @Slot(bool)
    def on_flag(self, b):
        self.flags += 1


def test_thousands_of_emits_in_one_process(qtbot):
    emitter, receiver = Emitter(), Receiver()
    emitter.value.connect(receiver.on_value)
    emitter.flag.connect(receiver.on_flag)
    for i in range(5000):  # direct connections, same thread
        emitter.value.emit(np.arange(3) + i)
        emitter.flag.emit(i % 2 == 0)
    assert receiver.count == 5000 and receiver.flags == 5000

    # queued, from another thread, as the trainer's worker does
    remote = Emitter()
    remote.value.connect(receiver.on_value)
    remote.flag.connect(receiver.on_flag)
    thread = QThread()
    remote.moveToThread(thread)
    done = threading.Event()

    def burst():
        for i in range(3000):
            remote.value.emit({"step": i, "grad_norm": np.ones(4)})
            remote.flag.emit(True)
        done.set()
    thread.started.connect(burst)
    thread.start()
    qtbot.waitUntil(lambda: receiver.count == 8000 and receiver.flags == 8000, timeout=20000)
    thread.quit()
    assert thread.wait(5000)
