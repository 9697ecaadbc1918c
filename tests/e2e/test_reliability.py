"""What survives failures: a worker killed mid-reply, and stopping the whole product."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
import uuid

import psutil
import pytest
from websockets.sync.client import connect

from leads.models import Message
from salesbot.stack import wait_http_ok
from tests.conftest import ROOT
from tests.e2e.conftest import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack_env(stack_env):
    # Long replies, so that there is time to kill the worker in the middle of one.
    return stack_env | {"LLM_MAX_NEW_TOKENS": "400", "LLM_TEMPERATURE": "0.8"}


def _frames_until(ws, predicate, timeout=120):
    frames = []
    while not frames or not predicate(frames[-1]):
        frames.append(json.loads(ws.recv(timeout=timeout)))
    return frames


@pytest.mark.django_db(transaction=True)
def test_a_reply_survives_its_worker_process_being_killed(live_stack, demo_site):
    worker = psutil.Process(live_stack.processes["worker"].pid)
    url = live_stack.base_url.replace("http://", "ws://") + "/ws/chat/demo/"
    with connect(url, origin=live_stack.base_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "visitor": None}))
        json.loads(ws.recv(timeout=10))
        text = "Write a long, detailed story about a salesman who travels the world."
        ws.send(json.dumps({"type": "message", "id": str(uuid.uuid4()), "text": text}))
        _frames_until(ws, lambda f: f["type"] == "delta")
        # The pool processes, the one generating the reply among them (one per model slot).
        killed = worker.children()
        for child in killed:
            child.send_signal(signal.SIGKILL)
        frames = _frames_until(ws, lambda f: f["type"] == "reply")
    assert frames[-1]["text"]
    (reply,) = Message.objects.filter(role=Message.Role.ASSISTANT)
    assert (reply.id, reply.status, reply.text) == (
        frames[-1]["message"],
        Message.Status.COMPLETE,
        frames[-1]["text"],
    )
    assert worker.is_running()
    assert not {p.pid for p in worker.children()} & {p.pid for p in killed}


def test_the_stack_starts_embedded_redis_and_stops_everything_on_ctrl_c(stack_env, tmp_path):
    env = {k: v for k, v in stack_env.items() if k != "REDIS_URL"}
    env["SALESBOT_VAR_DIR"] = str(tmp_path)
    port, demo_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salesbot.stack",
            "--port",
            str(port),
            "--demo-port",
            str(demo_port),
            "--model-port",
            str(free_port()),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", 90, process)
        wait_http_ok(f"http://127.0.0.1:{demo_port}/", 10, process)
        children = psutil.Process(process.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in names and "uvicorn" in names and "celery" in names
        assert "salesbot.demo_host" in names
        assert "llama-server" in names  # the default: one process holds the bundled model
        assert os.path.exists(tmp_path / "redis" / "redis.sock")
        with urllib.request.urlopen(f"http://127.0.0.1:{demo_port}/", timeout=5) as response:
            assert f"127.0.0.1:{port}/static/salesbot/widget.js".encode() in response.read()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []
        assert not os.path.exists(tmp_path / "redis" / "redis.sock")
    finally:
        if process.poll() is None:
            process.kill()


def test_a_worker_whose_model_cannot_load_refuses_to_start(stack_env, redis_url):
    env = stack_env | {"REDIS_URL": redis_url, "LLM_GPU_LAYERS": "-1"}
    worker = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "salesbot", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode != 0
    assert "GGML_CUDA" in worker.stderr and "LLM_GPU_LAYERS=0" in worker.stderr
