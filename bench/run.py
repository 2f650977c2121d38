"""The benchmark: `python -m bench.run [--tickets 10000] [--concurrency 1,8,32] [--requests 300] [--workers N]`.

1. A database: a fresh PostgreSQL database `itsm_bench_<timestamp>` on 127.0.0.1:5432 (dropped
   afterwards unless --keep-db), or ITSM_DATABASE_URL / --database-url.
2. `itsm init --demo` and `itsm api-app create bench --act-for-users` (the real CLI commands,
   invoked in-process through Flask's CLI runner), then `bench.seed` with N tickets plus pools of
   tickets ready for CLAIM and TRANSITION, then --articles knowledge articles (generated Chinese and
   English text, stored the way `save_article` stores them; the search index follows by itself).
3. SQL statements per operation, counted in-process through the Flask test client with a
   SQLAlchemy `before_cursor_execute` listener (the second, warm call of each operation), and
   `EXPLAIN` (PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS)`) of every SELECT the list operations and the
   knowledge search ran.
4. The app under gunicorn (`wsgi:app`, 2 workers per core by default) on 127.0.0.1 and a free
   port (or, with `--server werkzeug`, a threaded werkzeug server in this process: the smoke mode),
   then bounded load per operation and concurrency: a thread pool, one requests.Session per
   thread, at most --requests requests and --seconds seconds per run, loopback only.
5. Peak RSS per gunicorn worker (/proc/<pid>/status VmHWM), a table on stdout and
   `bench/results/<timestamp>.json`.

The ceiling is `GET /healthz`: a JSON answer from the same workers, no session, no database query.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from app.infra.uow import commit

ROOT = Path(__file__).resolve().parents[1]
API = "/api/c/compapi/v2/itsm"
APP_CODE, APP_SECRET = "bench", "bench-secret-0123456789"
ADMIN_PASSWORD, DEMO_PASSWORD = "admin-pass-123", "demo-pass-123"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

ACCOUNT_FIELDS = [{"key": "title", "value": "压测提单"}, {"key": "system", "value": "crm"},
                  {"key": "account_type", "value": "permanent"}, {"key": "permissions", "value": ["read"]},
                  {"key": "reason", "value": "bench"}]
APPROVE_FIELDS = [{"key": "leader_approve_result", "value": "true"}, {"key": "leader_approve_remark", "value": "同意"}]
STEP_FIELDS = {"cab_review": [{"key": "cab_review_result", "value": "true"}, {"key": "cab_review_remark", "value": "同意"}],
               "dba_review": [{"key": "dba_opinion", "value": "已备份，可以实施"}],
               "leader_approve": APPROVE_FIELDS}

# name, kind, who: the operations measured, in this order (writes after reads)
OPERATIONS = [
    ("ceiling GET /healthz", "ceiling", None),
    ("get_ticket_status", "api", "admin"),
    ("get_tickets creator", "api", "admin"),
    ("get_tickets to-do", "api", "admin"),
    ("workbench /", "web", "leader"),
    ("global view /tickets", "web", "leader"),
    ("ticket page /tickets/<id>", "web", "admin"),
    ("knowledge search", "web", "alice"),
    ("statistics page", "web", "admin"),          # 运营数据 over the last 30 days (issue 17.15: its time measured)
    ("create_ticket", "api", "alice"),
    ("operate_node CLAIM", "api", "ops1"),
    ("operate_node TRANSITION", "api", "leader"),
    ("approve (approval decision)", "api", "leader"),     # the approve API on an approval step (issue 20.4)
    ("countersign vote", "api", "cab1"),                  # operate_node: 1 vote of 2 on the CAB countersign
    ("parallel-branch transition", "api", "eng2"),        # operate_node: one branch of a parallel fork finishes
]
# the pool of ready tickets each write operation takes one from (bench.seed.POOLS)
POOL_OF = {"operate_node CLAIM": "claim", "operate_node TRANSITION": "transition",
           "approve (approval decision)": "approve", "countersign vote": "countersign",
           "parallel-branch transition": "parallel"}
# the p95 <= 50 ms and no-full-scan targets name these; LIST_OPS also gets the search's EXPLAIN
TARGET_LIST_OPS = ("get_tickets creator", "get_tickets to-do", "workbench /", "global view /tickets",
                   "ticket page /tickets/<id>")
LIST_OPS = TARGET_LIST_OPS + ("knowledge search",)
WRITE_OPS = ("create_ticket", "operate_node CLAIM", "operate_node TRANSITION")


STOP = threading.Event()        # set on SIGINT/SIGTERM: load threads stop, the server and database are cleaned up


def _on_signal(signum, frame):
    STOP.set()
    raise KeyboardInterrupt


def log(msg: str) -> None:
    print(msg, flush=True)


# --- the database and the app ------------------------------------------------------------------

def fresh_pg_database() -> str:
    from sqlalchemy import create_engine, text

    name = f"itsm_bench_{datetime.now():%Y%m%d_%H%M%S}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def app_config(url: str) -> dict:
    return {"DATABASE_URL": url, "SECRET_KEY": "bench-secret-key", "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "DEMO_PASSWORD": DEMO_PASSWORD, "API_APP_SECRET": APP_SECRET, "BASE_URL": "http://127.0.0.1"}


def init_and_seed(app, tickets: int, pools: dict, articles: int = 2000) -> dict:
    runner = app.test_cli_runner()
    for args in (["itsm", "init", "--demo"], ["itsm", "api-app", "create", APP_CODE, "--act-for-users"]):
        result = runner.invoke(args=args)
        if result.exit_code != 0 and "已存在" in result.output:      # a reused database: the bench app is there
            log(f"note: {result.output.strip()} (reusing it; its secret must be {APP_SECRET!r})")
        elif result.exit_code != 0:
            raise SystemExit(f"`flask --app wsgi {' '.join(args)}` failed: {result.output}")
    from bench.seed import seed

    report = seed(app, tickets, pools=pools, log=lambda m: None)
    seed_articles(app, articles)
    return report


# --- knowledge articles --------------------------------------------------------------------------

# (Chinese, English) pairs; no topic or filler sentence contains another topic's or symptom's words,
# so a topic + symptom query finds exactly the articles written about that pair
KB_TOPICS = [("打印机", "printer"), ("无线网络", "Wi-Fi"), ("VPN客户端", "VPN client"), ("企业邮箱", "mailbox"),
             ("域账号", "domain account"), ("笔记本电脑", "laptop"), ("显示器", "monitor"),
             ("视频会议", "video conference"), ("共享盘", "shared drive"), ("数据库", "database"),
             ("Web服务器", "web server"), ("负载均衡", "load balancer"), ("防火墙", "firewall"),
             ("堡垒机", "bastion host"), ("备份任务", "backup job"), ("磁盘阵列", "disk array"),
             ("虚拟机", "virtual machine"), ("容器集群", "Kubernetes cluster"), ("消息队列", "message queue"),
             ("缓存服务", "cache service"), ("DNS解析", "DNS resolution"), ("证书", "TLS certificate"),
             ("办公软件", "office suite"), ("浏览器", "browser"), ("杀毒软件", "antivirus"), ("门禁卡", "access badge"),
             ("座机电话", "desk phone"), ("投影仪", "projector"), ("OA系统", "OA system"), ("CRM系统", "CRM"),
             ("ERP系统", "ERP"), ("报销系统", "expense system"), ("代码仓库", "code repository"),
             ("持续集成", "CI pipeline"), ("监控告警", "monitoring alert"), ("日志平台", "log platform"),
             ("单点登录", "single sign-on"), ("移动设备", "mobile device"), ("扫描仪", "scanner"),
             ("网络交换机", "network switch")]
KB_SYMPTOMS = [("脱机", "offline"), ("无法连接", "cannot connect"), ("速度很慢", "is slow"),
               ("频繁断开", "keeps disconnecting"), ("登录失败", "login fails"), ("报错", "shows an error"),
               ("无响应", "not responding"), ("空间不足", "out of space"), ("权限不足", "permission denied"),
               ("配置丢失", "configuration lost")]
KB_CATEGORIES = ["桌面运维", "网络与通信", "应用系统", "基础设施", "安全", "办公设备"]
KB_SENTENCES = [
    "请先确认设备已接通电源，并记录下当前的时间和操作步骤。", "如果问题只影响一个人，优先检查本机设置。",
    "若同一楼层多人同时出现问题，请直接联系服务台升级处理。", "处理前请备份相关配置文件，避免误操作。",
    "重启相关服务后等待三到五分钟再验证。", "检查最近一周是否有变更单涉及该组件。",
    "必要时在工单中附上截图和日志片段，便于二线工程师定位。", "确认用户所在部门和工位编号，登记到工单里。",
    "按照标准操作手册逐项核对，不要跳过任何一步。", "处理完成后请用户确认恢复，再关闭工单。",
    "如涉及生产环境，需要在变更窗口内操作并通知值班经理。", "查看监控面板中过去二十四小时的趋势图。",
    "对比正常机器与异常机器的版本号，找出差异。", "清理本地缓存文件后重新尝试一次。",
    "若为硬件故障，请填写报修单并联系供应商。", "检查系统时间是否与时间服务器同步。",
    "Collect the exact time and the steps that led to the problem.", "Compare a working machine with a failing one.",
    "Restart the related service and wait a few minutes before checking again.",
    "Attach screenshots and log excerpts to the ticket so the second line can help.",
    "Check whether a change in the last week touched this component.",
    "Escalate to the on-call engineer when more than one team is affected.",
    "Follow the standard operating procedure step by step.", "Ask the requester to confirm before closing the ticket.",
]
KB_AUTHORS = ["desk", "ops1", "ops2", "eng1", "eng2", "admin"]
KB_TITLES = ["{tz}{sz}怎么办", "{tz}{sz}的排查步骤", "如何处理{tz}{sz}", "{te} {se}: troubleshooting ({tz}{sz})"]
SEARCH_QUERY = "打印机 脱机"      # topic 0 + symptom 0: one article in 400 (5 of 2,000)


def article_text(i: int, rng) -> tuple[str, str, list[str], int]:
    """(title, Markdown body, tags, category index) of the i-th generated article."""
    (tz, te), (sz, se) = KB_TOPICS[i % len(KB_TOPICS)], KB_SYMPTOMS[(i // len(KB_TOPICS)) % len(KB_SYMPTOMS)]
    title = rng.choice(KB_TITLES).format(tz=tz, te=te, sz=sz, se=se) + f" #{i + 1}"
    steps = "\n".join(f"{n}. {s}" for n, s in enumerate(rng.sample(KB_SENTENCES, rng.randint(3, 6)), 1))
    body = (f"## 现象 / Symptom\n\n{tz}{sz}。The {te} {se} (error code `0x{rng.randrange(16 ** 6):06X}`).\n\n"
            f"## 原因 / Cause\n\n{' '.join(rng.sample(KB_SENTENCES, rng.randint(4, 10)))}\n\n"
            f"## 处理步骤 / Steps\n\n{steps}\n\n"
            f"> {rng.choice(KB_SENTENCES)} 相关单据：INC{20260000 + rng.randrange(1200):08d}{rng.randrange(10 ** 6):06d}\n")
    return title, body, [tz, sz, te], i % len(KB_CATEGORIES)


def seed_articles(app, n: int, rng_seed: int = 8) -> int:
    """Top the knowledge base up to `n` generated articles, stored as `save_article` stores them.

    Each article gets its rendered plain text, tags, tag rows and version 1; the search index follows
    by itself (FTS5 triggers on SQLite, GIN indexes on PostgreSQL). Returns the articles added.
    """
    import random
    from datetime import timedelta

    from sqlalchemy import func, insert, select, text

    from app.extensions import db
    from app.models import Article, ArticleTag, ArticleVersion, KnowledgeCategory
    from app.services.knowledge import articles as kb
    from app.services.people.users import find_user

    rng = random.Random(rng_seed)
    with app.app_context():
        have = db.session.execute(select(func.count()).select_from(Article)).scalar_one()
        if have >= n:
            return 0
        existing = dict(db.session.execute(select(KnowledgeCategory.name, KnowledgeCategory.id)).all())
        admin = find_user("admin")
        categories = [existing.get(name) or kb.create_category(admin, name).id for name in KB_CATEGORIES]
        now = datetime.utcnow()
        articles = []
        for i in range(n):
            title, body, tags, category = article_text(i, rng)   # drawn for every i: the same text per index
            if i < have:
                continue
            created = now - timedelta(days=730) * rng.random()
            updated = min(now, created + timedelta(days=60) * rng.random())
            author = rng.choice(KB_AUTHORS)
            articles.append(Article(title=title, body=body, plain=kb.plain_text(kb.render_markdown(body)),
                                    tags=",".join(tags), category_id=categories[category], author=author, version=1,
                                    created_at=created, updated_at=updated, updated_by=author))
        db.session.add_all(articles)
        db.session.flush()
        db.session.execute(insert(ArticleVersion), [
            {"article_id": a.id, "number": 1, "title": a.title, "body": a.body, "tags": a.tags,
             "category_id": a.category_id, "note": "", "created_by": a.author, "created_at": a.created_at}
            for a in articles])
        db.session.execute(insert(ArticleTag), [{"article_id": a.id, "tag": t} for a in articles
                                                for t in a.tag_list])
        commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE knowledge_articles, knowledge_article_versions, knowledge_article_tags"))
        else:
            db.session.execute(text("ANALYZE"))
            commit()
        db.session.remove()
    return len(articles)


def sample_tickets(app, k: int = 2000) -> tuple[list[str], list[int], dict]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Service, Ticket

    with app.app_context():
        rows = db.session.execute(select(Ticket.sn, Ticket.id).order_by(Ticket.id).limit(k * 10)).all()
        services = dict(db.session.execute(select(Service.key, Service.id)).all())
        db.session.remove()
    rows = rows[:: max(1, len(rows) // k)]
    return [r.sn for r in rows], [r.id for r in rows], services


# --- requests ------------------------------------------------------------------------------------

def api_headers(username: str) -> dict:
    return {"X-Bkapi-Authorization": json.dumps({"bk_app_code": APP_CODE, "bk_app_secret": APP_SECRET,
                                                 "bk_username": username}), "Content-Type": "application/json"}


class Requests:
    """One request per operation, against `base` (requests.Session) or a Flask test client."""

    def __init__(self, sns, ids, services, pools):
        self.sns, self.ids, self.services = sns, ids, services
        self.pools = {name: deque(items) for name, items in pools.items()}

    def _pool(self, name):
        try:
            return self.pools[name].popleft()
        except (IndexError, KeyError):
            return None

    def call(self, op: str, do, i: int) -> bool:
        """`do(method, path, json=None, who=None)` returns (status, body bytes)."""
        if op.startswith("ceiling"):
            status, body = do("GET", "/healthz")
            return status == 200 and b'"ok"' in body
        if op == "knowledge search":
            status, body = do("GET", "/knowledge/?q=" + quote(SEARCH_QUERY))
            return status == 200 and b"kb-hit" in body
        if op == "statistics page":
            status, body = do("GET", "/statistics/")
            return status == 200 and b"data-figure" in body
        if op in ("workbench /", "global view /tickets"):
            status, body = do("GET", "/" if op == "workbench /" else "/tickets")
            return status == 200 and b"csrf" in body
        if op.startswith("ticket page"):
            status, _ = do("GET", f"/tickets/{self.ids[i % len(self.ids)]}")
            return status == 200
        if op == "get_ticket_status":
            return _ok(do("GET", f"{API}/get_ticket_status/?sn={self.sns[i % len(self.sns)]}"))
        if op == "get_tickets creator":
            return _ok(do("POST", f"{API}/get_tickets/", {"creator": "alice", "page": 1, "page_size": 10}))
        if op == "get_tickets to-do":
            return _ok(do("POST", f"{API}/get_tickets/", {"username": "leader", "page": 1, "page_size": 10}))
        if op == "create_ticket":
            return _ok(do("POST", f"{API}/create_ticket/", {"service_id": self.services["account_apply"],
                                                            "creator": "alice", "fields": ACCOUNT_FIELDS}))
        if op in POOL_OF:
            item = self._pool(POOL_OF[op])
            if item is None:
                return False
            if item["action"] == "APPROVE":
                return _ok(do("POST", f"{API}/approve/", {"sn": item["sn"], "state_id": item["state_id"],
                                                          "approver": item["operator"], "action": "true",
                                                          "remark": "同意"}))
            body = {"sn": item["sn"], "state_id": item["state_id"], "operator": item["operator"],
                    "action_type": item["action"]}
            if item["action"] == "TRANSITION":
                body["fields"] = STEP_FIELDS[item["node_key"]]
            return _ok(do("POST", f"{API}/operate_node/", body))
        raise ValueError(op)


def _ok(answer) -> bool:
    status, body = answer
    if status != 200:
        return False
    try:
        return bool(json.loads(body).get("result"))
    except ValueError:
        return False


CSRF_FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class HttpUser:
    """A requests.Session as one user: API header, or a logged-in browser session."""

    def __init__(self, base: str, kind: str, who: str | None):
        import requests

        self.base, self.s = base, requests.Session()
        self.headers = api_headers(who) if kind == "api" else {}
        if kind == "web":
            page = self.s.get(base + "/login").text
            token = CSRF_FORM.search(page).group(1)
            r = self.s.post(base + "/login", allow_redirects=False,
                            data={"username": who, "password": ADMIN_PASSWORD if who == "admin" else DEMO_PASSWORD,
                                  "csrf_token": token})
            if r.status_code != 302:
                raise RuntimeError(f"login as {who} failed: HTTP {r.status_code}")

    def do(self, method, path, body=None):
        r = self.s.request(method, self.base + path, json=body, headers=self.headers, timeout=60,
                           allow_redirects=False)
        return r.status_code, r.content


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


def drive(users: list[HttpUser], reqs: Requests, op: str, concurrency: int, max_requests: int,
          max_seconds: float) -> dict:
    """Bounded closed-loop load: `concurrency` threads share a budget of requests and a deadline."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + max_seconds

    def worker(k: int):
        user = users[k]
        while True:
            i = next(counter)
            if i >= max_requests or time.perf_counter() > deadline or STOP.is_set():
                return
            t0 = time.perf_counter()
            try:
                ok = reqs.call(op, user.do, i)
            except Exception:  # noqa: BLE001 - a failed request is an error, not a crashed run
                ok = False
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                if not ok:
                    errors[0] += 1

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {"requests": len(ms), "errors": errors[0], "seconds": round(elapsed, 3),
            "throughput": round(len(ms) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2), "p99_ms": round(pct(ms, 99), 2)}


# --- statement counts and EXPLAIN, in-process -----------------------------------------------------

def count_statements(app, reqs: Requests, ops=None) -> tuple[dict, dict]:
    """{op: statements of its warm call}, {op: [(statement, params)] of SELECTs} via the test client."""
    from sqlalchemy import event

    from app.extensions import db

    captured: list = []
    active = [False]

    def listener(conn, cursor, statement, parameters, context, executemany):
        if active[0]:
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    counts, selects = {}, {}
    try:
        clients = {}
        for op, kind, who in ops or OPERATIONS:
            key = (kind, who)
            if key not in clients:
                clients[key] = _test_user(app, kind, who)
            do = clients[key]
            for attempt in range(2):         # the first call warms caches (compiled flows, ...)
                captured.clear()
                active[0] = True
                ok = reqs.call(op, do, attempt + 7)
                active[0] = False
            counts[op] = {"statements": len(captured), "ok": ok}
            selects[op] = [(s, p) for s, p in captured if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return counts, selects


def _test_user(app, kind, who):
    client = app.test_client()
    headers = api_headers(who) if kind == "api" else {}
    if kind == "web":
        token = CSRF_FORM.search(client.get("/login").get_data(as_text=True)).group(1)
        r = client.post("/login", data={"username": who, "password": ADMIN_PASSWORD if who == "admin" else DEMO_PASSWORD,
                                        "csrf_token": token})
        assert r.status_code == 302, f"login as {who} failed"

    def do(method, path, body=None):
        r = client.open(path, method=method, json=body, headers=headers)
        return r.status_code, r.get_data()

    return do


SMALL_TABLE_ROWS = 1000


def _row_estimate(raw, table: str, pg: bool) -> float:
    """The planner's row count of a table (pg_class.reltuples after ANALYZE; COUNT(*) on SQLite)."""
    cur = raw.cursor()
    try:
        if pg:
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", (table,))
            row = cur.fetchone()
            if row and row[0] >= 0:
                return float(row[0])
        if not re.fullmatch(r"\w+", table) or table.upper() == "CONSTANT":     # SQLite's "SCAN CONSTANT ROW"
            return 0.0
        cur.execute(f'SELECT COUNT(*) FROM "{table}"')        # never analyzed, or SQLite: count it
        return float(cur.fetchone()[0])
    except Exception:  # noqa: BLE001 - not a table (a subquery's name): count it as a full scan
        if pg:
            raw.rollback()
        return float("inf")
    finally:
        cur.close()


def explain(app, selects: dict) -> dict:
    """EXPLAIN of each distinct SELECT the list operations ran that reads a ticket table."""
    return {op: explain_statements(app, selects[op]) for op in LIST_OPS if op in selects}


def explain_statements(app, statements: list) -> list[dict]:
    """EXPLAIN (PostgreSQL: ANALYZE, BUFFERS) of each distinct (statement, params) that reads a ticket table,
    with the tables it scans whole (a table of fewer than SMALL_TABLE_ROWS rows is reported apart)."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        pg = engine.dialect.name == "postgresql"
        raw = engine.raw_connection()
        try:
            seen, plans = set(), []
            for statement, params in statements:
                if statement in seen or not re.search(
                        r"\b(tickets|ticket_steps|step_processors|ticket_logs|knowledge_articles)\b", statement):
                    continue
                seen.add(statement)
                cur = raw.cursor()
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
                cur.execute(prefix + statement, params)
                rows = cur.fetchall()
                cur.close()
                plan = [r[0] for r in rows] if pg else [str(r[-1]) for r in rows]
                text_plan = "\n".join(plan)
                scanned = sorted(set(re.findall(r"Seq Scan on (\w+)", text_plan) if pg else
                                     re.findall(r"^SCAN (\w+)\b(?! USING| VIRTUAL TABLE)", text_plan, re.M)))
                # a scan of a table with a handful of rows (no links yet, say) is the right plan and does
                # not grow with the tickets: reported apart, not counted as a full scan
                small = [t for t in scanned if _row_estimate(raw, t, pg) < SMALL_TABLE_ROWS]
                took = re.search(r"Execution Time: ([\d.]+) ms", text_plan)
                plans.append({"sql": " ".join(statement.split()), "plan": plan,
                              "full_scans": [t for t in scanned if t not in small], "small_table_scans": small,
                              "execution_ms": float(took.group(1)) if took else None})
            if pg:
                raw.rollback()
        finally:
            raw.close()
    return plans


# --- the SLA scan ---------------------------------------------------------------------------------

def sla_scan(app, pool: list[dict]) -> dict:
    """One pass of the scheduler's SLA job over the running tickets, idle and busy, with its query's plan.

    Idle: nothing is due now (the usual tick). Busy: the pass runs three days ahead, so every running
    ticket's thresholds are crossed and the pass records warnings and breaches for as many as one pass
    takes (`due_tickets`' limit): notices, escalations, raised priorities, each ticket its own unit of work.
    """
    from datetime import timedelta

    from sqlalchemy import event, func, select

    from app.extensions import db
    from app.jobs import check_service_levels
    from app.models import Ticket
    from app.timeutil import utcnow

    captured: list = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if "sla_check_at <=" in statement and statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    out: dict = {"pool": len(pool)}
    with app.app_context():
        out["running_with_sla"] = db.session.execute(select(func.count()).select_from(Ticket).where(
            Ticket.status == "RUNNING", Ticket.sla_check_at.is_not(None))).scalar_one()
        db.session.remove()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            for name, at in (("idle", None), ("busy", utcnow() + timedelta(days=3))):
                started = time.perf_counter()
                recorded = check_service_levels(at)
                out[f"{name}_pass_seconds"] = round(time.perf_counter() - started, 3)
                out[f"{name}_recorded"] = recorded
                db.session.remove()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    plans = explain_statements(app, captured[:1] + captured[-1:])
    out["explain"] = plans
    out["full_scans"] = sorted({t for p in plans for t in p["full_scans"]})
    return out


# --- servers -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, config: dict, workers: int):
        self.port = free_port()
        env = dict(os.environ)
        env.update({f"ITSM_{k}": str(v) for k, v in config.items()})
        exe = Path(sys.executable).with_name("gunicorn")
        cmd = [str(exe) if exe.exists() else "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
               "--log-level", "warning", "--timeout", "120", "wsgi:app"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        try:
            _wait_up(self.base, self.proc)
        except BaseException:
            self.stop()                   # no orphaned workers when the server never answered
            raise

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Werkzeug:
    """Smoke mode: a threaded werkzeug server in this process."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        _wait_up(self.base, None)

    def worker_pids(self) -> list[int]:
        return []

    def stop(self):
        self.server.shutdown()


def _wait_up(base: str, proc) -> None:
    import requests

    deadline = time.time() + 300          # a loaded host can take minutes to import the app in 4 workers
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {base} did not come up")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(app, server) -> dict | None:
    """CPU seconds so far of the gunicorn workers and of the database's backends serving this database.

    CPU per request is what the machine's load does not change much: a shared, busy host stretches
    latency and throughput, not the work one request costs. None with the werkzeug server (it shares
    this process with the client) and on SQLite.
    """
    if not isinstance(server, Gunicorn):
        return None
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        with db.engine.connect() as conn:
            backends = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND pid <> pg_backend_pid()")).scalars().all()
    return {"app": {pid: _cpu_seconds(pid) for pid in server.worker_pids()},
            "db": {pid: _cpu_seconds(pid) for pid in backends}}


def cpu_per_request(before: dict | None, after: dict | None, requests: int) -> dict:
    """{app_cpu_ms, db_cpu_ms} per request between two `server_cpu` readings (backends that connected in
    between count from zero)."""
    if not before or not after or not requests:
        return {}
    out = {}
    for side in ("app", "db"):
        spent = sum(t - before[side].get(pid, 0.0) for pid, t in after[side].items())
        out[f"{side}_cpu_ms"] = round(spent * 1000 / requests, 2)
    return out


def peak_rss(pids: list[int]) -> dict:
    out = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M))
        out[str(pid)] = {"peak_rss_mb": round(int(fields.get("VmHWM", 0)) / 1024, 1),
                         "rss_mb": round(int(fields.get("VmRSS", 0)) / 1024, 1)}
    return out


# --- the run -------------------------------------------------------------------------------------

def median_of(runs: list[dict]) -> dict:
    keys = ("throughput", "p50_ms", "p95_ms", "p99_ms")
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
    out["requests"] = sum(r["requests"] for r in runs)
    out["errors"] = sum(r["errors"] for r in runs)
    out["runs"] = runs
    return out


def run(args) -> dict:
    started = time.time()
    concurrency = [int(c) for c in args.concurrency.split(",")]
    url = args.database_url or os.environ.get("ITSM_DATABASE_URL")
    owned = False
    if args.sqlite:
        url = f"sqlite:///{Path(args.sqlite).resolve()}"
    elif not url:
        url = fresh_pg_database()
        owned = True
    log(f"database: {url}")
    config = app_config(url)
    from app import create_app

    app = create_app(config)
    server = None
    try:
        ops = [o for o in OPERATIONS if not args.ops or any(o[0].startswith(p) for p in args.ops.split(","))]
        per_pool = args.runs * sum(min(args.requests, 10_000) for _ in concurrency) + 4 * args.workers + 20
        pools = {POOL_OF[op]: per_pool for op, _, _ in ops if op in POOL_OF}
        if args.sla_running:
            pools["sla"] = args.sla_running
        t0 = time.time()
        report = init_and_seed(app, args.tickets, pools, articles=args.articles)
        seed_info = report.as_dict()
        log(f"seeded {seed_info['tickets']} tickets / {report.total_rows} rows in {seed_info['seconds']}s "
            f"({seed_info['rows_per_second']} rows/s); init+seed {time.time() - t0:.1f}s")
        sns, ids, services = sample_tickets(app)
        reqs = Requests(sns, ids, services, report.pools)
        counts, selects = count_statements(app, reqs, ops)
        plans = explain(app, selects)
        sla = sla_scan(app, report.pools["sla"]) if args.sla_running else None
        if args.server == "gunicorn":
            server = Gunicorn(config, args.workers)
        else:
            server = Werkzeug(app)
        log(f"server: {args.server} at {server.base}" + (f", {args.workers} workers" if args.server == "gunicorn" else ""))
        users: dict = {}
        results: dict = {}
        cmax = max(concurrency)
        for op, kind, who in ops:
            key = (kind, who)
            if key not in users:
                users[key] = [HttpUser(server.base, "api" if kind == "ceiling" else kind, who or "admin")
                              for _ in range(cmax)]
            warm = drive(users[key], reqs, op, min(cmax, 4), 2 * max(args.workers, 2), args.seconds)
            results[op] = {"warmup_errors": warm["errors"]}
            for c in concurrency:
                before = server_cpu(app, server)
                runs = [drive(users[key], reqs, op, c, args.requests, args.seconds) for _ in range(args.runs)]
                results[op][str(c)] = median_of(runs)
                m = results[op][str(c)]
                m.update(cpu_per_request(before, server_cpu(app, server), m["requests"]))
                log(f"  {op:28} c={c:<3} {m['throughput']:8.1f} req/s  p50 {m['p50_ms']:7.1f}  "
                    f"p95 {m['p95_ms']:7.1f}  p99 {m['p99_ms']:7.1f} ms  errors {m['errors']}"
                    + (f"  CPU/request app {m['app_cpu_ms']} ms, db {m['db_cpu_ms']} ms" if "app_cpu_ms" in m else ""))
        rss = peak_rss(server.worker_pids())
    finally:
        if server is not None:
            server.stop()
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
        if owned and not args.keep_db:
            drop_pg_database(url)
    ceiling_op = OPERATIONS[0][0]
    for op, per_c in results.items():
        for c, m in per_c.items():
            if c.isdigit() and ceiling_op in results and c in results[ceiling_op]:
                top = results[ceiling_op][c]["throughput"]
                m["ratio_to_ceiling"] = round(m["throughput"] / top, 3) if top else None
    out = {
        "started": datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {"tickets": args.tickets, "concurrency": concurrency, "requests": args.requests,
                     "max_seconds": args.seconds, "runs": args.runs, "server": args.server,
                     "workers": args.workers if args.server == "gunicorn" else None,
                     "database": url.split("://")[0], "articles": args.articles,
                     "search_query": SEARCH_QUERY, "ceiling": "GET /healthz (JSON, no session, no database)"},
        "seed": seed_info,
        "statements": counts,
        "results": results,
        "worker_rss": rss,
        "explain": plans,
        "sla_scan": sla,
    }
    out["targets"] = targets(out)
    return out


def targets(out: dict) -> dict:
    res, t = out["results"], {}
    ratios = {op: res[op]["8"].get("ratio_to_ceiling") for op in WRITE_OPS if op in res and "8" in res[op]}
    if ratios:
        t["writes_c8_ge_50pct_of_ceiling"] = {"holds": all(r is not None and r >= 0.5 for r in ratios.values()),
                                             "ratios": ratios}
    if out.get("sla_scan"):
        scan = out["sla_scan"]
        t["sla_scan_pass_le_1s_without_full_scan"] = {
            "holds": scan["busy_pass_seconds"] <= 1 and scan["idle_pass_seconds"] <= 1 and not scan["full_scans"],
            "running_tickets": scan["running_with_sla"], "busy_pass_seconds": scan["busy_pass_seconds"],
            "idle_pass_seconds": scan["idle_pass_seconds"], "full_scans": scan["full_scans"]}
    p95 = {op: res[op].get("1", {}).get("p95_ms") for op in TARGET_LIST_OPS if op in res}
    if p95:
        t["lists_p95_le_50ms_c1"] = {"holds": all(v is not None and v <= 50 for v in p95.values()),
                                     "p95_ms": p95, "tickets": out["settings"]["tickets"]}
    scans = {op: sorted({s for p in plans for s in p["full_scans"]}) for op, plans in out["explain"].items()
             if op in TARGET_LIST_OPS}
    t["list_queries_without_full_scans"] = {"holds": not any(scans.values()), "full_scans": scans}
    if out["worker_rss"]:
        peak = max(w["peak_rss_mb"] for w in out["worker_rss"].values())
        t["worker_peak_rss_le_150mb"] = {"holds": peak <= 150, "max_peak_rss_mb": peak}
    return t


def print_table(out: dict) -> None:
    conc = [str(c) for c in out["settings"]["concurrency"]]
    runs = out["settings"]["runs"]
    log(f"\n{out['settings']['tickets']} tickets, {out['settings']['server']}"
        f" ({out['settings']['workers'] or 'threaded'} workers), {out['settings']['database']}, "
        f"{'median of %d runs' % runs if runs > 1 else '1 run'} per cell; ceiling = GET /healthz")
    head = f"{'operation':28} {'SQL':>4} " + " ".join(
        f"| c={c:<3} {'req/s':>7} {'ratio':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'cpu':>9}" for c in conc)
    log(head)
    log("-" * len(head))
    for op, per_c in out["results"].items():
        stm = out["statements"].get(op, {}).get("statements", "")
        cells = []
        for c in conc:
            m = per_c.get(c)
            if m is None:
                continue
            err = "!" if m["errors"] else " "
            cells.append(f"|{err}{'':5} {m['throughput']:7.1f} {m.get('ratio_to_ceiling') or 0:5.2f} "
                         f"{m['p50_ms']:6.1f} {m['p95_ms']:6.1f} {m['p99_ms']:6.1f} "
                         + (f"{m['app_cpu_ms']:4.1f}+{m['db_cpu_ms']:<4.1f}" if "app_cpu_ms" in m else f"{'':9}"))
        log(f"{op:28} {stm:>4} " + " ".join(cells))
    log("(latencies in ms; SQL = statements of one warm call, in-process; cpu = CPU ms per request of the app "
        "workers + the database backends; ! = some requests failed)")
    if out["worker_rss"]:
        log("peak RSS per worker (MB): " + ", ".join(f"{w['peak_rss_mb']}" for w in out["worker_rss"].values()))
    scan = out.get("sla_scan")
    if scan:
        log(f"SLA scan over {scan['running_with_sla']} running tickets with an SLA: idle pass "
            f"{scan['idle_pass_seconds']} s ({scan['idle_recorded']} recorded), busy pass {scan['busy_pass_seconds']} s "
            f"({scan['busy_recorded']} recorded); query "
            + "; ".join(f"{p['execution_ms']} ms, full scans {p['full_scans'] or 'none'}" for p in scan["explain"]))
    for name, t in out["targets"].items():
        log(f"target {name}: {'HOLDS' if t['holds'] else 'DOES NOT HOLD'}  "
            + json.dumps({k: v for k, v in t.items() if k != 'holds'}, ensure_ascii=False))


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=10_000)
    p.add_argument("--articles", type=int, default=2000, help="knowledge articles for the search operation")
    p.add_argument("--concurrency", default="1,8,32")
    p.add_argument("--requests", type=int, default=300, help="requests per run (per operation and concurrency)")
    p.add_argument("--seconds", type=float, default=20.0, help="time limit per run")
    p.add_argument("--runs", type=int, default=3, help="runs per cell; the table shows their median")
    p.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    p.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    p.add_argument("--database-url", default=None, help="default: ITSM_DATABASE_URL, else a fresh PostgreSQL db")
    p.add_argument("--sqlite", default=None, metavar="PATH", help="use a SQLite file (smoke mode)")
    p.add_argument("--keep-db", action="store_true", help="keep the fresh PostgreSQL database")
    p.add_argument("--sla-running", type=int, default=0, metavar="N",
                   help="add N running incident tickets with an SLA and time one pass of the SLA scan over them")
    p.add_argument("--ops", default="", help="comma-separated prefixes of operation names to run (default all)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for the JSON file")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        import signal

        signal.signal(signal.SIGTERM, _on_signal)
    out = run(args)
    print_table(out)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now():%Y%m%d-%H%M%S}-{args.tickets}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
