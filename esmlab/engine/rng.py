"""The lab's one source of chance: a seeded generator whose state is a single
integer stored with the lab.

SplitMix64 is used instead of `random.Random` because its whole state is one
64-bit number: persisting it after every call costs nothing, and its output
does not depend on the Python version.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class LabRandom:
    def __init__(self, state: int):
        self.state = state & _MASK

    @classmethod
    def from_seed(cls, seed: int) -> "LabRandom":
        return cls(seed * 0x2545F4914F6CDD1D + 1)

    def next64(self) -> int:
        self.state = (self.state + _GOLDEN) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0, 1)."""
        return (self.next64() >> 11) * (1.0 / (1 << 53))

    def chance(self, probability: float) -> bool:
        # Draw nothing when the answer is certain, so turning a feature off
        # does not shift the sequence other features see.
        if probability <= 0:
            return False
        if probability >= 1:
            return True
        return self.random() < probability

    def below(self, n: int) -> int:
        """An int in [0, n)."""
        return self.next64() % n if n > 1 else 0

    def uuid(self) -> str:
        """A version-4-shaped UUID string drawn from the lab's generator."""
        hi, lo = self.next64(), self.next64()
        hi = (hi & 0xFFFFFFFFFFFF0FFF) | 0x4000          # version 4
        lo = (lo & 0x3FFFFFFFFFFFFFFF) | 0x8000000000000000  # RFC 4122 variant
        h = f"{hi:016x}{lo:016x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def token(self, nbytes: int = 24) -> str:
        """Opaque hex text, e.g. for receipt handles."""
        words = (nbytes + 7) // 8
        return "".join(f"{self.next64():016x}" for _ in range(words))[: nbytes * 2]
