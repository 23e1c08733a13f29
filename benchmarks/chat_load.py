"""Load on the tutoring chat: several hundred websocket clients on a real daphne server with the
Redis channel layer, on the loopback interface only, bounded in time.

    nice -n 10 .venv/bin/python benchmarks/chat_load.py [--clients 300] [--askers 50] [--rounds 4]
        [--think 5] [--messages 3] [--interval 5] [--redis redis://127.0.0.1:6379/3] [--database-url postgres://.../tutor_chat_load]
        [--max-seconds 300]

It makes a fresh database (a temporary SQLite file unless --database-url is given), imports the
real intro-python demo course, enrols one student per client with a signed-in session, starts
daphne on 127.0.0.1 with ``REDIS_URL`` and connects every client (each to its own conversation).
1. Message delivery: every client sends ``--messages`` chat messages, one every ``--interval`` seconds
   on average (random), so several hundred clients make a steady stream of about clients / interval
   messages a second; the time from sending to receiving the message back through the server and
   the Redis layer.
2. Tutor answers (``tutor_answer``): ``--askers`` clients at once ask real student questions
   (data/qa) ``--rounds`` times each, reading each answer and typing the next question for about
   ``--think`` seconds (random, 0.5-1.5x), while the other clients stay connected; the time from
   sending to the tutor's full answer (after its streamed parts).
3. Saturation (``tutor_answer_saturated``): as many other askers with no pause at all, each asking
   again the moment its answer arrives. This measures the server's capacity (answers/s); its
   latency is about askers / capacity (Little's law), i.e. a queue, not a student's experience.
A message or answer not received before its deadline counts as lost. Prints one JSON object.

With PostgreSQL, give the URL ``?conn_max_age=60`` (persistent connections, as a production
``DATABASE_URL`` should): without it every database call of the chat opens a new connection, e.g.

    nice -n 10 .venv/bin/python benchmarks/chat_load.py \
        --database-url "postgres://postgres@127.0.0.1:5432/tutor_chat_load?conn_max_age=60"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "data" / "demo" / "intro-python.course.json.gz"
QUESTIONS = ROOT / "data" / "qa" / "intro-python.jsonl"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def prepare(env: dict, clients: int) -> tuple[str, list[str]]:
    """Migrate, import the course, enrol the students; their session keys."""
    for command in (["migrate"], ["flush"]):  # flush: a --database-url database is emptied first
        subprocess.run([sys.executable, "manage.py", *command, "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from domain import course_io, services

    course = course_io.import_course(document=course_io.load_document(DEMO))
    keys = []
    user_model = get_user_model()
    for i in range(clients):
        user = user_model.objects.create_user(username=f"load-{i}", password=None)
        services.enrollment_create(user=user, course=course)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return course.slug, keys


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-v", "1", "-b", HOST, "-p", str(port), "tutor.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("daphne exited: " + log.read_text()[-2000:])
            time.sleep(0.2)
    server.kill()
    raise SystemExit("daphne did not start within 60 s")


class Client:
    """One student's chat socket; a reader task matches echoed messages and tutor answers."""

    def __init__(self, url: str, origin: str, session_key: str):
        self.url, self.origin, self.session_key = url, origin, session_key
        self.ws = None
        # the client's own messages coming back, and the tutor's answers (errors go to both)
        self.queues: dict[str, asyncio.Queue] = {"student": asyncio.Queue(), "tutor": asyncio.Queue()}

    async def connect(self, websockets) -> None:
        self.ws = await websockets.connect(
            self.url, origin=self.origin, additional_headers={"Cookie": f"sessionid={self.session_key}"},
            max_queue=None, open_timeout=60,
        )
        history = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
        assert history["type"] == "history", history
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                event = json.loads(raw)
                if event["type"] == "message" and event["message"]["sender"] in self.queues:
                    self.queues[event["message"]["sender"]].put_nowait(event)
                elif event["type"] == "error":
                    for queue in self.queues.values():
                        queue.put_nowait(event)
        except Exception:  # noqa: BLE001 - a closed socket ends the reader; missing events count as lost
            pass

    async def send_and_wait(self, text: str, *, want: str, timeout: float) -> float | None:
        """Seconds until the echo (``want="student"``) or the tutor's answer (``"tutor"``); None if lost."""
        start = time.perf_counter()
        await self.ws.send(json.dumps({"type": "message", "text": text}))
        try:
            event = await asyncio.wait_for(self.queues[want].get(), timeout)
        except asyncio.TimeoutError:
            return None
        if event["type"] == "error" or (want == "student" and event["message"]["text"] != text):
            return None
        return time.perf_counter() - start

    async def drain(self, want: str, count: int, timeout: float) -> int:
        """Take ``count`` events from a queue (e.g. the tutor's replies to small talk); how many came."""
        got = 0
        deadline = time.perf_counter() + timeout
        while got < count and time.perf_counter() < deadline:
            try:
                await asyncio.wait_for(self.queues[want].get(), deadline - time.perf_counter())
            except asyncio.TimeoutError:
                break
            got += 1
        return got


def percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    ms = np.asarray(seconds) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "max_ms": round(float(ms.max()), 1)}


async def run_load(args, url: str, origin: str, keys: list[str], questions: list[str]) -> dict:
    import websockets

    clients = [Client(url, origin, key) for key in keys]
    gate = asyncio.Semaphore(25)

    async def connect(client):
        async with gate:
            await client.connect(websockets)

    started = time.perf_counter()
    await asyncio.gather(*(connect(c) for c in clients))
    connect_s = time.perf_counter() - started

    # 1. delivery: every client sends its messages one after the other
    rng = random.Random(7)

    async def chatter(client: Client, i: int) -> list[float | None]:
        """A message every ``--interval`` seconds or so (students type between messages)."""
        out = []
        for k in range(args.messages):
            await asyncio.sleep(rng.uniform(0, 2 * args.interval))
            out.append(await client.send_and_wait("thanks" if k % 2 else "hello", want="student", timeout=30))
        return out

    delivery_runs = await asyncio.gather(*(chatter(c, i) for i, c in enumerate(clients)))
    delivery = [t for run in delivery_runs for t in run]
    # the tutor's short replies to that small talk: each must arrive too
    replies = await asyncio.gather(*(c.drain("tutor", args.messages, 30) for c in clients))
    small_talk_lost = args.messages * len(clients) - sum(replies)

    # 2. tutor answers, paced: askers ask, read the answer, think, ask again (the rest stay connected)
    async def ask(client: Client, i: int, think: float, arng: random.Random) -> list[float | None]:
        out = []
        if think:
            await asyncio.sleep(arng.uniform(0, think))  # askers do not start in lockstep
        for r in range(args.rounds):
            question = questions[(i * args.rounds + r) % len(questions)]
            out.append(await client.send_and_wait(question, want="tutor", timeout=60))
            if think:
                await asyncio.sleep(arng.uniform(0.5 * think, 1.5 * think))
        return out

    async def asking(askers: list[Client], think: float) -> tuple[list[float | None], float]:
        arng = random.Random(11)
        started = time.perf_counter()
        runs = await asyncio.gather(*(ask(c, i, think, arng) for i, c in enumerate(askers)))
        return [t for run in runs for t in run], time.perf_counter() - started

    # other clients than phase 3's, so that no one reaches the per-user rate limit
    paced, paced_s = await asking(clients[: args.askers], args.think)
    # 3. saturation: as many askers, each asking again the moment the answer arrives (no reading, no
    # typing): the server's capacity; by Little's law the latency is about askers / answers per second
    saturated_askers = clients[args.askers : 2 * args.askers] if len(clients) >= 2 * args.askers else clients[: args.askers]
    answers, answers_s = await asking(saturated_askers, 0.0)

    def answer_row(times: list[float | None], seconds: float, think: float) -> dict:
        done = [t for t in times if t is not None]
        return {"concurrent_askers": args.askers, "think_s": think, **percentiles(done),
                "answers_per_s": round(len(done) / seconds, 1)}

    for client in clients:
        await client.ws.close()
    return {
        "clients": len(clients),
        "connect_all_s": round(connect_s, 2),
        "delivery": percentiles([t for t in delivery if t is not None]),
        "tutor_answer": answer_row(paced, paced_s, args.think),
        "tutor_answer_saturated": answer_row(answers, answers_s, 0.0),
        "messages_sent": len(delivery) + len(paced) + len(answers),
        "tutor_replies_expected": len(delivery) + len(paced) + len(answers),
        "messages_lost": sum(t is None for t in delivery + paced + answers) + small_talk_lost,
        "lost_by_kind": {"delivery": sum(t is None for t in delivery), "small_talk_reply": small_talk_lost,
                         "tutor_answer": sum(t is None for t in paced + answers)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--askers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="questions per asker, in each answer phase")
    parser.add_argument(
        "--think", type=float, default=5.0,
        help="mean seconds an asker reads the answer and types the next question (paced phase)",
    )
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--interval", type=float, default=5.0, help="mean seconds between a client's messages")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument(
        "--database-url", default="", help="a database of the benchmark's own, emptied first (default: a temporary SQLite file)"
    )
    parser.add_argument("--max-seconds", type=float, default=300, help="the whole run is stopped after this")
    args = parser.parse_args()
    if args.askers > args.clients:
        raise SystemExit("--askers must not exceed --clients")

    questions = [json.loads(line)["q"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="chat-load-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tutor.settings.base",
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/db.sqlite3",
            "REDIS_URL": args.redis,
            "HF_HUB_OFFLINE": "1",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "PYTHONPATH": str(ROOT),
        }
        import redis

        redis.Redis.from_url(args.redis).flushdb()  # the benchmark's own Redis database: no stale groups or counts
        slug, keys = prepare(env, args.clients)
        port = free_port()
        log = Path(tmp) / "daphne.log"
        server = start_server(env, port, log)
        try:
            url, origin = f"ws://{HOST}:{port}/ws/tutor/{slug}/", f"http://{HOST}:{port}"
            # warm-up: the first answer loads the model and builds the course's index
            asyncio.run(asyncio.wait_for(_warm(url, origin, keys[-1]), 240))
            result = asyncio.run(asyncio.wait_for(run_load(args, url, origin, keys, questions), args.max_seconds))
        except BaseException:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
        else:
            if result["messages_lost"]:
                print(log.read_text()[-3000:], file=sys.stderr)
        finally:
            server_log = log.read_text(errors="replace")
            server_errors = server_log.count("Traceback")
            if server_errors:
                print(server_log[server_log.index("Traceback") - 500 :][:6000], file=sys.stderr)
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    result.update({"server_errors": server_errors, "server": "daphne", "channel_layer": "redis", "host": HOST,
                   "database": "postgresql" if args.database_url.startswith("postgres") else "sqlite"})
    print(json.dumps(result))


async def _warm(url: str, origin: str, key: str) -> None:
    import websockets

    client = Client(url, origin, key)
    await client.connect(websockets)
    if await client.send_and_wait("What does REPL stand for?", want="tutor", timeout=100) is None:
        raise SystemExit("the server did not answer the warm-up question")
    await client.ws.close()


if __name__ == "__main__":
    main()
