"""The ``newsdesk`` command line: parses arguments, calls the library, prints. Nothing else."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from index import NewsdeskError, Settings, load_settings, require_extra

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Answers questions from news articles, citing every claim. Runs offline.",
    pretty_exceptions_enable=False,
)

CorpusOption = Annotated[
    Path | None, typer.Option("--corpus", help="Folder of articles (default: the bundled corpus).")
]
IndexDirOption = Annotated[
    Path | None, typer.Option("--index-dir", help="Where the index lives (default: .newsdesk/indexes/...).")
]
VectorStoreOption = Annotated[
    str | None,
    typer.Option(
        "--vector-store",
        help="Where chunk vectors are searched: faiss (default), a Milvus Lite file (*.db) or a Milvus server "
        "(http://HOST:PORT). See README, 'Scaling out'.",
    ),
]


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"newsdesk: error: {message}", err=True)
    raise typer.Exit(code)


def settings_from(**overrides: Any) -> Settings:
    """Settings from file and environment, with command-line flags on top (unset flags are None).

    Index builds show progress bars when stderr is a terminal, else a line now and then."""
    key_map = {"corpus": "corpus_dir", "ray": "ray_address"}
    flags = {key_map.get(k, k): v for k, v in overrides.items()}
    return load_settings(flags | {"show_progress": sys.stderr.isatty()})


def open_desk(settings: Settings, rebuild: bool = False, wait_for_build: bool = False) -> Any:
    from index import Newsdesk

    desk = Newsdesk.open(settings, rebuild=rebuild, wait_for_build=wait_for_build)
    if desk.build_report.wrote:
        typer.echo(desk.build_report.summary(), err=True)
    return desk


@app.command()
def index(
    corpus: CorpusOption = None,
    index_dir: IndexDirOption = None,
    vector_store: VectorStoreOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything.")] = False,
    index_type: Annotated[
        str | None,
        typer.Option(
            "--index-type",
            help="Vector index: auto (flat, exact, below 100,000 chunks, then ivfpq), flat, "
            "hnsw or ivfpq. Changing it re-embeds nothing.",
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            flag_value="local",
            metavar="[ADDRESS]",
            help="Embed with Ray Data: alone, on a Ray instance started here; with an address "
            "(ray://HOST:10001, HOST:6379, auto), on that cluster. The vectors are the same.",
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Then keep watching the corpus folder and update on every change.")
    ] = False,
) -> None:
    """Build or update the index of a corpus (only new or changed articles are embedded)."""
    settings = settings_from(
        corpus=corpus,
        index_dir=index_dir,
        index_type=index_type,
        vector_store=vector_store,
        ray=ray,
    )
    # Building is this command's job: behind another builder it waits (and says for whom), never serves stale.
    desk = open_desk(settings, rebuild=rebuild, wait_for_build=True)
    if not desk.build_report.wrote:
        typer.echo(desk.build_report.summary(), err=True)
    typer.echo(str(settings.resolved_index_dir()))
    if watch:
        from index import update_message

        watcher = desk.watch(lambda report, change: typer.echo(update_message(report, change), err=True))
        typer.echo(f"watching {settings.corpus_dir} for changes (Ctrl-C stops)", err=True)
        try:
            while True:
                time.sleep(3600)
        finally:
            watcher.stop()


@app.command()
def add(
    items: Annotated[list[str], typer.Argument(help="Article files (.txt, .md, .html, .jsonl) or http(s) URLs.")],
    corpus: CorpusOption = None,
    index_dir: IndexDirOption = None,
) -> None:
    """Add articles to the corpus (files are copied, URLs fetched and saved) and update the index."""
    from bot.render_text import article_line
    from index import add_to_corpus

    settings = settings_from(corpus=corpus, index_dir=index_dir)
    added = add_to_corpus(items, settings.corpus_dir, settings.fetch_timeout_s)
    desk = open_desk(settings, wait_for_build=True)
    by_path = {a.source_path.split(":")[0]: a for a in desk.sources()}
    for item in added:
        relative = str(item.path.relative_to(settings.corpus_dir))
        article = by_path.get(relative)
        if article is None:
            typer.echo(f"{item.source}: saved as {relative}, but no article could be read from it", err=True)
        else:
            typer.echo(f"{article.id}  {article_line(article)}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    corpus: CorpusOption = None,
    index_dir: IndexDirOption = None,
    k: Annotated[int | None, typer.Option("--k", help="How many passages to retrieve.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only articles from this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only articles up to this date.")] = None,
    outlet: Annotated[str | None, typer.Option("--outlet", help="Only articles of this outlet.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Answer as if asked on this day (YYYY-MM-DD; default: today): later articles are not used."
        ),
    ] = None,
    retriever: Annotated[
        str | None,
        typer.Option("--retriever", help="How passages are found: dense, bm25 or hybrid (default: hybrid)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON object.")] = False,
    vector_store: VectorStoreOption = None,
) -> None:
    """Answer a question from the articles, with numbered, quoted sources."""
    from bot.render_text import render_text

    settings = settings_from(
        corpus=corpus,
        index_dir=index_dir,
        k=k,
        retriever=retriever,
        vector_store=vector_store,
    )
    from bot.chat import AskOptions
    from index import clean_question, empty_filter_message, parse_day

    day = parse_day(as_of, "--as-of")
    options = AskOptions(k, parse_day(since, "--since"), parse_day(until, "--until"), outlet, day)
    question = clean_question(question, settings.max_question_chars)  # fail fast, before any loading
    desk = open_desk(settings)
    empty = empty_filter_message(desk.sources(), options.filters())
    if empty is not None:  # say which filter left nothing, not "the articles do not cover this"
        fail(empty)
    answer = desk.ask(
        question,
        k=k,
        since=options.since,
        until=options.until,
        outlet=outlet,
        retriever=settings.retriever,
        as_of=day or dt.date.today(),
    )
    if as_json:
        typer.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(answer))


@app.command()
def sources(
    corpus: CorpusOption = None,
    index_dir: IndexDirOption = None,
    vector_store: VectorStoreOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON list: id, title, date, outlet, url, byline, chunks, file.")
    ] = False,
) -> None:
    """List the indexed articles, newest first."""
    from bot.render_text import article_line

    settings = settings_from(corpus=corpus, index_dir=index_dir, vector_store=vector_store)
    desk = open_desk(settings)
    if as_json:
        counts = desk.chunk_counts()
        rows = [
            {"id": a.id, "title": a.title, "date": a.date_iso or None, "outlet": a.outlet, "url": a.url,
             "byline": a.byline, "chunks": counts.get(a.id, 0), "file": a.source_path}
            for a in desk.sources()
        ]  # fmt: skip
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for article in desk.sources():
        typer.echo(f"{article.id}  {article_line(article)}")


@app.command()
def repl(
    corpus: CorpusOption = None,
    index_dir: IndexDirOption = None,
    k: Annotated[int | None, typer.Option("--k", help="How many passages to retrieve.")] = None,
    vector_store: VectorStoreOption = None,
) -> None:
    """Ask questions one after another, with follow-ups (reads one question a line from a pipe)."""
    from bot.repl import run

    settings = settings_from(corpus=corpus, index_dir=index_dir, k=k, vector_store=vector_store)
    run(settings)


@app.command()
def discord(
    corpus: CorpusOption = None, index_dir: IndexDirOption = None, vector_store: VectorStoreOption = None
) -> None:
    """Run the Discord bot (token from DISCORD_TOKEN; see README, "Discord")."""
    # A long-running service: time-stamped INFO lines (start-up time, syncs, shutdown) to stderr.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("faiss").setLevel(logging.WARNING)  # which CPU build it loaded is not news
    require_extra("discord", "newsdesk discord")  # discord.py brings aiohttp
    from bot.discord_bot import run

    run(settings_from(corpus=corpus, index_dir=index_dir, vector_store=vector_store))


# `newsdesk eval --help`: one paragraph a line, since rich keeps a docstring's line breaks.
EVAL_HELP = "\n\n".join(
    [
        "Run regression question sets: a table of questions, the metrics, and PASS or FAIL with how many failed.",
        "Columns: question = file:id of the entry; result = pass or FAIL; rank = where each listed source "
        "stands among the answer's citations, in the order listed ('-': not cited, so '2,-' means the first "
        "source was cited second and the other not at all); ms = time to answer it (warm: the first question "
        "is asked once, untimed, before the run); why = what failed. A failed row is followed by the answer "
        "given and its first citation.",
        "Answers match as whole words, case-insensitively, numbers by value ('13,500' = '13500'; 'Ghani' is "
        "not found in 'Afghanistan').",
        "Metrics: hit@1/3/5 = share of sourced questions with every listed source among the first 1/3/5 "
        "citations; MRR = mean of 1/rank of the first listed source cited; answer accuracy = share answered "
        "with an expected string; abstention recall = share of 'abstain: true' questions that abstained; "
        "precision = share of abstentions that were expected; latency p50/p95 in ms (warm).",
        "Exit code 1 when any question fails, unless --min-* thresholds (then: when one is missed) or "
        "--baseline (then: on a regression) say which failures to accept. The last line says how many failed.",
    ]
)


@app.command("eval", help=EVAL_HELP)
def evaluate(
    files: Annotated[list[Path], typer.Argument(help="YAML question files (see tests/questions/seed.yaml).")],
    corpus: CorpusOption = None,
    index_dir: IndexDirOption = None,
    k: Annotated[int | None, typer.Option("--k", help="How many passages to retrieve.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full report as JSON here.")] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="An earlier --json report: list regressions (passed there, fail now: the run fails) and fixes "
            "(failed there, pass now), and every metric's change.",
        ),
    ] = None,
    min_hit3: Annotated[float | None, typer.Option("--min-hit3", help="Fail when hit@3 is lower.")] = None,
    min_answer: Annotated[
        float | None, typer.Option("--min-answer", help="Fail when answer accuracy is lower.")
    ] = None,
    min_abstain: Annotated[
        float | None,
        typer.Option("--min-abstain", help="Fail when abstention recall (and precision, unless given below) is lower."),
    ] = None,
    min_abstain_precision: Annotated[
        float | None, typer.Option("--min-abstain-precision", help="Fail when abstention precision is lower.")
    ] = None,
    vector_store: VectorStoreOption = None,
) -> None:
    from bot.evaluation import Thresholds, evaluate, load_baseline, load_questions, render_plain, render_rich

    questions = load_questions(files)  # fail fast on a malformed file, before any loading
    old = load_baseline(baseline) if baseline is not None else None
    settings = settings_from(corpus=corpus, index_dir=index_dir, k=k, vector_store=vector_store)
    desk = open_desk(settings)
    thresholds = Thresholds(min_hit3, min_answer, min_abstain, min_abstain_precision)
    report = evaluate(desk, questions, thresholds, k=k, baseline=old)
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(render_rich(report))
    else:
        typer.echo(render_plain(report))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="newsdesk: %(levelname)s: %(message)s")
    try:
        app()
    except NewsdeskError as err:
        typer.echo(f"newsdesk: error: {err}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
