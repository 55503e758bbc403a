"""The remaining commands (chat, menu, bench) and the command line."""

from __future__ import annotations

import argparse
import subprocess
import sys

from stack.backup import cmd_backup, cmd_restore
from stack.config import ROOT, TEST_SUITES, StackError, load_env, say, use_simulator_by_default
from stack.envs import API_VENV, BOT_VENV, ensure_api_env, ensure_bot_env, run
from stack.rolling import cmd_rolling_restart
from stack.scaled import cmd_admin, cmd_retrain, cmd_serve_scaled, cmd_setup, cmd_train
from stack.suites import cmd_test
from stack.supervisor import cmd_serve


def cmd_chat(extra: list[str]) -> int:
    """The terminal front end of the WeChat simulator (the backend must be running)."""
    env = load_env()
    return subprocess.call(
        [sys.executable, str(ROOT / "scripts" / "chat.py"), "--api", env["API_URL"], *extra], env=env
    )


def cmd_menu() -> int:
    """Installs config/wechat_menu.yml on the platform (the simulator's, unless WECHAT_API_BASE_URL is set)."""
    env = load_env()
    use_simulator_by_default(env)
    ensure_bot_env()
    return run(
        [BOT_VENV.bin("python"), "-m", "channels.menu", "--file", env.get("WECHAT_MENU") or "config/wechat_menu.yml"],
        env=env,
        check=False,
    )


def cmd_bench() -> int:
    """Benchmarks; each writes its section of docs/benchmarks.md."""
    env = load_env({"APP_ENV": "test"})
    ensure_api_env()
    ensure_bot_env()
    codes = [
        run([API_VENV.bin("python"), "scripts/bench_api.py", "--write"], env=env, check=False),
        run([BOT_VENV.bin("python"), "scripts/bench_nlu.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_channel.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_console.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_streams.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_scaled.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_capacity.py", "--write"], env=env, check=False),
        run([API_VENV.bin("python"), "scripts/bench_models.py", "--write"], env=env, check=False),
    ]
    return max(codes)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Set up, start and test the product's three processes.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="environments, migrations and model")
    serve = sub.add_parser("serve", help="start services until Ctrl-C")
    serve.add_argument("services", nargs="+", choices=["all", "scaled", "api", "actions", "rasa"])
    sub.add_parser("train", help="train the model if its inputs changed")
    sub.add_parser("retrain", help="train a candidate with the reviewed examples (the backend must run)")
    sub.add_parser("bench", help="run the benchmarks, write docs/benchmarks.md")
    chat = sub.add_parser("chat", help="chat as a WeChat resident through the simulator (needs `serve`)")
    chat.add_argument("extra", nargs=argparse.REMAINDER)
    sub.add_parser("menu", help="install the custom menu on the platform (or the simulator)")
    admin = sub.add_parser("admin", help="create a staff administrator (password asked, or ADMIN_PASSWORD)")
    admin.add_argument("username")
    backup = sub.add_parser("backup", help="back up every database and the models directory into one directory")
    backup.add_argument("folder", nargs="?", help="where (default: BACKUP_DIR, else var/backups/<Beijing time>)")
    backup.add_argument("--scaled", action="store_true", help="the scaled configuration (deploy/scaled.env)")
    restore = sub.add_parser("restore", help="restore a backup into the configuration's stores, then migrate")
    restore.add_argument("folder", nargs="?", help="the backup's directory (with its manifest.json)")
    restore.add_argument("--force", action="store_true", help="replace databases and models that hold data")
    restore.add_argument("--scaled", action="store_true", help="the scaled configuration (deploy/scaled.env)")
    sub.add_parser("rolling-restart", help="replace every process of the running `make run-scaled`, one at a time")
    test = sub.add_parser("test", help="run the test suites")
    test.add_argument("suites", nargs="*", help="any of: " + ", ".join(TEST_SUITES))
    args = parser.parse_args(argv)
    if args.command == "test" and set(args.suites) - set(TEST_SUITES):
        parser.error(f"unknown suite; choose from {', '.join(TEST_SUITES)}")
    try:
        if args.command == "setup":
            return cmd_setup()
        if args.command == "serve" and args.services == ["scaled"]:
            return cmd_serve_scaled()
        if args.command == "serve":
            return cmd_serve(args.services)
        if args.command == "train":
            return cmd_train()
        if args.command == "retrain":
            return cmd_retrain()
        if args.command == "bench":
            return cmd_bench()
        if args.command == "chat":
            return cmd_chat(args.extra)
        if args.command == "menu":
            return cmd_menu()
        if args.command == "backup":
            return cmd_backup(args.folder, scaled=args.scaled)
        if args.command == "restore":
            return cmd_restore(args.folder, force=args.force, scaled=args.scaled)
        if args.command == "admin":
            return cmd_admin(args.username)
        if args.command == "rolling-restart":
            return cmd_rolling_restart()
        return cmd_test(args.suites)
    except StackError as exc:
        say(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130
