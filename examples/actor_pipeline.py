"""An actor pipeline: parse -> square -> collect, each stage telling the next."""

import gatasker
from gatasker import Actor


class Collect(Actor):
    def on_start(self):
        self.values = []

    def on_receive(self, message):
        if message == 'report':
            return sorted(self.values)
        self.values.append(message)
        return None


class Square(Actor):
    def __init__(self, downstream):
        self.downstream = downstream

    def on_receive(self, message):
        self.downstream.tell(message * message)


class Parse(Actor):
    def __init__(self, downstream):
        self.downstream = downstream

    def on_receive(self, message):
        self.downstream.tell(int(message))


collect = Collect.spawn()
square = Square.spawn(collect)
parse = Parse.spawn(square)
for text in ('1', '2', '3', '4'):
    parse.tell(text)
# Stop stage by stage, each after handling what it was told.
for stage in (parse, square):
    stage.stop(drain=True)
result = collect.ask('report', timeout=10)
print(result)
assert result == [1, 4, 9, 16]
collect.stop()
gatasker.task_supervisor.stop()
