"""The `qa` command: ingest, documents, ask, eval, summarize, serve, slack."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

from service import offline  # noqa: F401  (before any model library)
from service.errors import QAError

log = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_FAILED = 1


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from pydantic import ValidationError

    from service.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "QA_" + str(error["loc"][0]).upper() if error.get("loc") else "a setting"
            print(f"error: invalid setting {name}: {error['msg']}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO) if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from service.container import Container

    container = Container(settings)
    try:
        return args.func(container, args)
    except QAError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Grounded answers with exact citations.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add or update files and folders (.txt .md .html .pdf) in the index")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--prune", action="store_true", help="also remove documents whose files are gone")
    p.add_argument("--json", action="store_true", help="print the per-file report as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("documents", help="list or delete indexed documents")
    dsub = p.add_subparsers(dest="action", required=True)
    pl = dsub.add_parser("list", help="list indexed documents")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=cmd_documents_list)
    pd = dsub.add_parser("delete", help="delete one document and its chunks")
    pd.add_argument("doc_id")
    pd.set_defaults(func=cmd_documents_delete)

    p = sub.add_parser("ask", help="ask a question (or a batch of them)")
    p.add_argument("question", nargs="?")
    p.add_argument("--batch", type=Path, help="JSONL file of {id, question} or {id, turns} lines")
    p.add_argument("--json", action="store_true", help="print the full JSON answer")
    p.add_argument("--conversation", help="conversation id: continue it (or start it with this id)")
    p.add_argument("--mode", choices=["auto", "extractive", "llm"], default=None)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("slack", help="run the Slack bot over Socket Mode (SLACK_APP_TOKEN, SLACK_BOT_TOKEN)")
    p.set_defaults(func=cmd_slack)

    p = sub.add_parser("eval", help="score answers on an evaluation dataset")
    p.add_argument("--mode", choices=["extractive", "llm", "all"], default="extractive")
    p.add_argument("--dataset", type=Path, default=None,
                   help="a JSONL dataset, or a folder of them (default: every file in eval/datasets/)")
    p.add_argument("--split", choices=["tune", "frozen", "all"], default="all",
                   help="tune: cases that may guide tuning; frozen: cases that only measure (default: both)")
    p.add_argument("--corpus", type=Path, action="append", default=[], help="ingest these paths first")
    p.add_argument("--report", type=Path, default=None, help="write report.json (and report.md) to this folder")
    p.add_argument("--show-failures", action="store_true", help="print each wrong answer")
    p.add_argument("--sample", type=int, default=None, help="evaluate N cases spread evenly over the dataset")
    p.add_argument("--check", type=Path, default=None,
                   help="fail (exit 1) when a metric is below the thresholds in this JSON file")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("summarize", help="write the model's summary of each stored digest that has none yet "
                                         "(qa serve does this in the background)")
    p.set_defaults(func=cmd_summarize)

    p = sub.add_parser("serve", help="run the HTTP API")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--seed", type=Path, action="append", default=[],
                   help="ingest this file or folder first if the index has no documents")
    p.set_defaults(func=cmd_serve)
    return parser


def cmd_ingest(container, args) -> int:
    report = container.ingest(args.paths, prune=args.prune)
    if args.json:
        print(json.dumps({"files": [vars(f) for f in report.files], "pruned": report.pruned,
                          "seconds": round(report.seconds, 2), "chunks_embedded": report.chunks_embedded}, indent=2))
    else:
        for f in report.files:
            if f.status == "failed":
                print(f"error: {f.error}", file=sys.stderr)
            else:
                print(f"{f.status:9} {f.path} ({f.chunks} chunks, doc_id {f.doc_id})")
        for path in report.pruned:
            print(f"pruned    {path}")
        print(report.summary(), file=sys.stderr)
    return EXIT_FAILED if report.failed else 0


def cmd_documents_list(container, args) -> int:
    docs = container.store.documents()
    if args.json:
        print(json.dumps([{"doc_id": d.doc_id, "source": d.source, "chunks": d.chunks} for d in docs], indent=2))
    elif not docs:
        print("no documents indexed", file=sys.stderr)
    else:
        for d in docs:
            print(f"{d.doc_id}  {d.chunks:6d} chunks  {d.source}  ({d.path})")
    return 0


def cmd_documents_delete(container, args) -> int:
    if container.store.delete_document(args.doc_id):
        print(f"deleted {args.doc_id}")
        return 0
    print(f"error: no document with id {args.doc_id}", file=sys.stderr)
    return EXIT_FAILED


def cmd_ask(container, args) -> int:
    if (args.question is None) == (args.batch is None):
        print("error: give a QUESTION or --batch FILE, not both", file=sys.stderr)
        return EXIT_USAGE
    if args.batch:
        return _ask_batch(container, args)
    answer = container.engine.ask(args.question, conversation_id=args.conversation, mode=args.mode)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return 0


def format_answer(answer: dict) -> str:
    lines = [answer["answer"]]
    if answer.get("notice"):  # what the answer covers, or why it is not the model's
        lines.append(f"({answer['notice']})")
    if answer["citations"]:
        lines.append("")
        for c in answer["citations"]:
            lines.append(f"[{c['n']}] {c['source']} chars {c['start_char']}-{c['end_char']}")
    if answer.get("related"):
        lines += ["", "Related passages (they do not answer the question):"]
        for c in answer["related"]:
            lines.append(f"- {c['source']} chars {c['start_char']}-{c['end_char']}: {' '.join(c['quote'].split())[:200]}")
    return terminal_safe("\n".join(lines))


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Control characters from documents shown as escapes (\\x1b), so a document cannot drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _ask_batch(container, args) -> int:
    from service.batch import BatchLineError, run_batch

    try:
        lines = args.batch.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.batch}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    status = 0
    for result in run_batch(container.engine, lines, mode=args.mode):
        if isinstance(result, BatchLineError):
            print(f"error: {args.batch}:{result.line_no}: {result.message}", file=sys.stderr)
            status = EXIT_FAILED
            print(json.dumps({"id": result.case_id, "error": result.message}, ensure_ascii=False), flush=True)
        else:
            print(json.dumps(result, ensure_ascii=False), flush=True)
    return status


def cmd_eval(container, args) -> int:
    from eval.report import write_report
    from eval.run import DATASETS_DIR, check_thresholds, evaluate, format_summary

    if args.corpus:
        report = container.ingest(args.corpus)
        if report.failed:
            print(report.summary(), file=sys.stderr)
            return EXIT_FAILED
    if not container.store.documents():
        print(f"error: the index at {container.settings.chroma_url or container.settings.data_dir} has no documents; "
              "ingest the evaluation corpus first (--corpus data/corpus --corpus eval/corpus)", file=sys.stderr)
        return EXIT_FAILED
    dataset = args.dataset or DATASETS_DIR
    modes = {"all": ["extractive", "llm"]}.get(args.mode, [args.mode])
    if "llm" in modes and container.llm_provider.configured:
        # What qa serve writes in the background, written first: llm scores never depend on how far it had got.
        _write_summaries(container)
    # Every run also measures the usual approach, so each report shows both side by side.
    results = [evaluate(container, dataset, mode, args.split, args.sample) for mode in [*modes, "baseline"]]
    for result in results:
        print(format_summary(result))
        if args.show_failures:
            for g in result["cases"]:
                if not g["correct"]:
                    print(f"  FAIL {g['id']} ({g['category']}): {g['question']}\n       -> {g['answer'][:300]}")
    feedback = _slack_feedback(container)
    if feedback:
        print(f"Slack feedback: {feedback['up']} 👍, {feedback['down']} 👎")
    if args.report:
        write_report(results, args.report, feedback, command=_eval_command(args))
        print(f"report: {args.report / 'report.md'}", file=sys.stderr)
    if args.check:
        thresholds = json.loads(args.check.read_text(encoding="utf-8"))
        failures = [f for r in results for f in check_thresholds(r, thresholds)]
        for failure in failures:
            print(f"error: {failure}", file=sys.stderr)
        if failures:
            return EXIT_FAILED
    return 0


def _eval_command(args) -> str:
    parts = ["qa eval", f"--mode {args.mode}", f"--split {args.split}"]
    parts += [f"--sample {args.sample}"] if args.sample else []
    parts += [f"--dataset {args.dataset}"] if args.dataset else []
    return " ".join(parts)


def cmd_slack(container, args) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from service.slack.app import build_slack_app

    settings = container.settings
    if not (settings.slack_bot_token and settings.slack_app_token):
        print("error: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN to run the Slack bot in Socket Mode", file=sys.stderr)
        return EXIT_USAGE
    container.warm_up()
    app = build_slack_app(container, container.slack_state)
    SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
    return 0


def _slack_feedback(container) -> dict | None:
    """👍/👎 counts from the Slack bot, if it has run with this data directory (or Redis)."""
    if not container.settings.redis_url and not container.settings.slack_db.exists():
        return None
    counts = container.slack_state.feedback_counts()
    return counts if counts["up"] or counts["down"] else None


def cmd_summarize(container, args) -> int:
    if not container.llm_provider.configured:
        print("error: no LLM is configured (install the model with `make setup`, or set QA_LLM_GGUF or QA_LLM_URL)",
              file=sys.stderr)
        return EXIT_USAGE
    written, pending = _write_summaries(container)
    return 0 if written == pending else EXIT_FAILED


def _write_summaries(container) -> tuple[int, int]:
    """Write the pending summaries of stored digests, with a progress bar on a terminal: (written, pending)."""
    from tqdm import tqdm

    writer = container.summary_writer
    jobs = writer.pending()
    if not jobs:
        return 0, 0
    with tqdm(total=len(jobs), desc="writing summaries", unit="summary", disable=None, file=sys.stderr) as bar:
        written = writer.write_pending(jobs, progress=lambda done, total: bar.update(1))
    print(f"summaries written: {written} of {len(jobs)}", file=sys.stderr)
    return written, len(jobs)


def cmd_serve(container, args) -> int:
    import uvicorn

    from service.api.app import create_app

    settings = container.settings
    host = args.host or settings.host
    port = args.port or settings.port
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_key_list:
        log.warning("listening on %s without API keys: anyone who can reach it can ask and upload", host)
        print(
            f"warning: listening on {host} without API keys; set QA_API_KEYS to require 'Authorization: Bearer <key>'",
            file=sys.stderr,
        )
    if args.seed and not container.store.documents():
        report = container.ingest(args.seed)
        print(report.summary(), file=sys.stderr)
    container.warm_up()
    # Summaries of the stored digests, written while the service answers; not where answers are extractive by default
    # (QA_ANSWER_MODE=extractive), which should not load the model for them.
    if container.llm_provider.configured and container.settings.answer_mode != "extractive":
        container.summary_writer.start()
    uvicorn.run(create_app(container), host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
