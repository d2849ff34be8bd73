"""HTTP load for `cus bench --suite web`: virtual users log in, then browse their pages with think time.

Each virtual user keeps one keep-alive connection and its session cookie, like a browser tab. Latencies are
measured on the client, from the request sent to the last byte of the answer.
"""

import http.client
import math
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class VirtualUser:
    username: str
    password: str
    pages: tuple[tuple[str, str], ...]  # (name shown in the report, path)


@dataclass
class Sample:
    page: str
    status: int
    seconds: float


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0


class Client:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Host": f"{self.host}:{self.port}", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=self._headers(headers))
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, elapsed

    def login(self, username: str, password: str) -> None:
        status, page, _ = self.request("GET", "/connexion/")
        token = CSRF_INPUT.search(page.decode("utf-8", "replace"))
        if status != 200 or not token:
            raise RuntimeError(f"page de connexion inattendue (HTTP {status})")
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
        )
        status, _, _ = self.request(
            "POST",
            "/connexion/",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{self.host}:{self.port}/connexion/",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"connexion refusée pour {username} (HTTP {status})")


def run_load(
    host: str,
    port: int,
    users: Sequence[VirtualUser],
    duration: float,
    think: tuple[float, float],
    seed: int = 1,
    extra: Sequence[tuple[str, str]] = (),
) -> LoadResult:
    """Every user logs in, then requests pages for `duration` seconds, pausing `think` seconds between pages.

    `extra` pages are requested by every user in turn with its own pages (the baseline, e.g. a static file).
    """
    result = LoadResult()
    lock = threading.Lock()
    logged_in = threading.Barrier(len(users) + 1)
    go = threading.Barrier(len(users) + 1)
    deadline: list[float] = [0.0]

    def browse(index: int, user: VirtualUser) -> None:
        rng = random.Random(seed + index)
        client = Client(host, port)
        try:
            client.login(user.username, user.password)
        except Exception as error:  # a failed login is a result of the benchmark, not a crash
            with lock:
                result.errors.append(f"{user.username} : {error}")
            logged_in.wait()
            go.wait()
            return
        logged_in.wait()
        go.wait()
        pages = [*user.pages, *extra]
        while time.perf_counter() < deadline[0]:
            name, path = pages[rng.randrange(len(pages))]
            try:
                status, _, seconds = client.request("GET", path)
            except Exception as error:
                with lock:
                    result.errors.append(f"{name} : {type(error).__name__} {error}")
                continue
            with lock:
                result.samples.append(Sample(name, status, seconds))
                if status != 200:
                    result.errors.append(f"{name} ({path}) : HTTP {status}")
            if think[1] > 0:
                time.sleep(rng.uniform(*think))

    threads = [threading.Thread(target=browse, args=(i, u), daemon=True) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    logged_in.wait()
    begun = time.perf_counter()
    deadline[0] = begun + duration
    go.wait()
    for t in threads:
        t.join(duration + 120)
    result.duration = time.perf_counter() - begun
    return result


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]
