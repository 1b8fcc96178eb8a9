"""paho's thread rests during a flood, so it cannot hold the interpreter from calm; normal traffic never
waits. (The clock is the module's own `time`, replaced here so the test does not depend on the machine.)"""

from types import SimpleNamespace

from room_controller.infrastructure import mqtt


class FakeTime:
    def __init__(self) -> None:
        self.now, self.rests = 0.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.rests.append(seconds)
        self.now += seconds


def deliver(monkeypatch, step: float, count: int) -> tuple[FakeTime, list[str]]:
    clock, got = FakeTime(), []
    monkeypatch.setattr(mqtt, "time", clock)

    def arrived(topic: str, payload: bytes, retained: bool) -> None:
        got.append(topic)
        clock.now += step   # the next message arrives `step` later

    link = mqtt.MqttLink("127.0.0.1", 1, "test", on_message=arrived)
    message = SimpleNamespace(topic="zigbee2mqtt/Bedside remote", payload=b'{"action":"on"}', retain=False)
    for _ in range(count):
        link._message(None, None, message)
    return clock, got


def test_a_flood_rests_the_thread_every_batch_and_loses_nothing_it_was_given(monkeypatch):
    clock, got = deliver(monkeypatch, step=1e-5, count=10 * mqtt.FLOOD_BATCH)   # 100,000 messages a second
    assert clock.rests == [mqtt.FLOOD_REST] * 10
    assert len(got) == 10 * mqtt.FLOOD_BATCH


def test_a_busy_but_normal_rate_never_rests(monkeypatch):
    clock, got = deliver(monkeypatch, step=1 / 2000, count=10 * mqtt.FLOOD_BATCH)   # 2,000 a second
    assert clock.rests == []
    assert len(got) == 10 * mqtt.FLOOD_BATCH
