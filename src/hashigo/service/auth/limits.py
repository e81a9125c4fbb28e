"""Login throttling: failed attempts per account and per client address (ASVS V6/V11).

Fixed windows in the key-value store (``LOGIN_WINDOW_SECONDS``, default 300 s). Once an account
or address reaches its limit, attempts are refused with 429 *without* being counted or checked,
so the lock ends when the window that began with the first failure ends: an attacker can keep
re-locking an account only by failing again every window, and a success clears the account's
count. Addresses have a higher limit (shared NATs) and are not cleared by a success, so one
valid account does not reset a guessing run.
"""

from __future__ import annotations

from dataclasses import dataclass

from hashigo.runtime import Runtime
from hashigo.service.kit.errors import ApiError
from hashigo.service.kit.ratelimit import FixedWindowLimiter


@dataclass(frozen=True, slots=True)
class LoginLimits:
    account: FixedWindowLimiter
    address: FixedWindowLimiter

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> LoginLimits:
        auth = runtime.settings.auth
        window = auth.login_window_seconds
        return cls(FixedWindowLimiter(runtime.kv, "login-account", auth.login_failures_per_account, window),
                   FixedWindowLimiter(runtime.kv, "login-address", auth.login_failures_per_address, window))

    async def refuse_if_locked(self, email: str, address: str | None) -> None:
        wait = await self.account.retry_after(email)
        if wait is not None:
            raise too_many("this account", wait)
        if address is not None:
            wait = await self.address.retry_after(address)
            if wait is not None:
                raise too_many("this address", wait)

    async def count_failure(self, email: str, address: str | None) -> None:
        await self.account.hit(email)
        if address is not None:
            await self.address.hit(address)

    async def forget_account(self, email: str) -> None:
        await self.account.reset(email)


def too_many(what: str, retry_after: int) -> ApiError:
    return ApiError(429, "too_many_attempts",
                    f"too many failed logins for {what}; try again in {retry_after} seconds",
                    {"Retry-After": str(retry_after)})
