"""The demo's people: Chinese names, pinyin emails, mobile numbers, employee numbers and customer
contacts, unique-looking and deterministic for a given random generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from fieldpunch.customers.schemas import Contact
from fieldpunch.demo import data

_SURNAME_WEIGHTS = [w for _, _, w in data.SURNAMES]


@dataclass
class People:
    """Unique-looking people: Chinese names, pinyin emails, mobile numbers, employee numbers."""

    rng: random.Random
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    emails: dict[str, int] = field(default_factory=dict)  # "zhang.wei" → how many so far
    employee_no: int = 0

    def name(self) -> tuple[str, str]:
        """(name, pinyin "surname.given"), avoiding a name already taken while the pool lasts."""
        for _ in range(50):
            surname, s_py, _w = self.rng.choices(data.SURNAMES, weights=_SURNAME_WEIGHTS)[0]
            given, g_py = self.rng.choice(data.GIVEN_NAMES)
            if surname + given not in self.names:
                break
        self.names.add(surname + given)
        return surname + given, f"{s_py}.{g_py}"

    def employee(self) -> tuple[str, str, str, str]:
        """(name, email, mobile, employee_no) for a new colleague."""
        name, base = self.name()
        self.emails[base] = n = self.emails.get(base, 0) + 1
        self.employee_no += 1
        no = f"{data.EMPLOYEE_PREFIX}{self.employee_no:04d}"
        return name, f"{base}{n:02d}@{data.EMAIL_DOMAIN}", self.mobile(), no

    def mobile(self) -> str:
        while True:
            phone = self.rng.choice(data.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def contact(self, title: str) -> Contact:
        surname, _, _ = self.rng.choices(data.SURNAMES, weights=_SURNAME_WEIGHTS)[0]
        given, _ = self.rng.choice(data.GIVEN_NAMES)
        if self.rng.random() < 0.2:  # a landline at the customer's front desk
            phone = f"021-{self.rng.choice('56')}{self.rng.randrange(10**7):07d}"
        else:
            phone = self.mobile()
        return Contact(name=surname + given, title=title, phone=phone)
