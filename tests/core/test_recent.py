"""The inbox's memory of recent payloads: a flood's repeats are decoded once, and never decoded wrongly."""

from room_controller.commands import CommandError
from room_controller.core.inbox import Recent


def counting(results):
    calls = []

    def decode():
        calls.append(1)
        result = results[len(calls) - 1]
        if isinstance(result, Exception):
            raise result
        return result
    return decode, calls


def test_a_repeated_payload_is_decoded_once():
    recent = Recent()
    decode, calls = counting(["first"])
    assert [recent.decoded("t", b"on", None, decode) for _ in range(1000)] == ["first"] * 1000
    assert len(calls) == 1


def test_two_payloads_in_turn_are_both_remembered_a_third_pushes_out_the_oldest():
    recent = Recent()
    decode, calls = counting(["off", "on", "other", "off"])
    for _ in range(50):
        assert recent.decoded("t", b"0", None, decode) == "off"
        assert recent.decoded("t", b"1", None, decode) == "on"
    assert len(calls) == 2
    assert recent.decoded("t", b"2", None, decode) == "other"
    assert recent.decoded("t", b"1", None, decode) == "on"   # still among the last two
    assert recent.decoded("t", b"0", None, decode) == "off"  # pushed out: decoded anew
    assert len(calls) == 4


def test_a_new_basis_decodes_again_and_keys_are_apart():
    recent = Recent()
    decode, calls = counting(["as white", "as colour", "other light"])
    white, colour = object(), object()
    assert recent.decoded(("ceiling", "t"), b"x", white, decode) == "as white"
    assert recent.decoded(("ceiling", "t"), b"x", colour, decode) == "as colour"
    assert recent.decoded(("floor", "t"), b"x", colour, decode) == "other light"
    assert len(calls) == 3


def test_an_error_is_returned_each_time_not_raised_and_its_traceback_does_not_grow():
    recent = Recent()
    decode, calls = counting([CommandError("not JSON")])
    errors = [recent.decoded("t", b"{", None, decode) for _ in range(100)]
    assert all(isinstance(e, CommandError) and str(e) == "not JSON" for e in errors)
    assert len(calls) == 1
    assert errors[-1] is errors[0]
