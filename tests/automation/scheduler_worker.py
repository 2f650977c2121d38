"""A scheduler process for the multi-process tests (spawned: imports nothing from the test modules)."""
import time


def run_worker(database_url: str, name: str, lease_seconds: int, max_seconds: float, idle_rounds: int = 6) -> None:
    from app import create_app
    from app.extensions import db
    from app.jobs import run_automatic_steps as run_due_automatic_steps

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True,
                      "AUTOMATION_LEASE_SECONDS": lease_seconds})
    deadline, idle = time.monotonic() + max_seconds, 0
    while time.monotonic() < deadline and idle < idle_rounds:
        with app.app_context():
            done = run_due_automatic_steps(name)
            db.session.remove()
        idle = 0 if done else idle + 1
        if not done:
            time.sleep(0.3)
