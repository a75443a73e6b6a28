"""Shared helpers of the hardware tests."""

from __future__ import annotations

import pytest

from qactors.core.errors import ConfigurationError


@pytest.fixture
def expect_error():
    """``expect_error(call, field, value, allowed)``: ``call()`` raises a ConfigurationError
    whose message names the field, the value and what is allowed."""
    def check(call, field: str, value: str, allowed: str) -> None:
        with pytest.raises(ConfigurationError) as info:
            call()
        msg = str(info.value)
        assert field in msg and value in msg and "allowed" in msg and allowed in msg, msg
    return check
