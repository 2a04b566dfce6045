"""``newsdesk repl``: ask questions in a terminal, with follow-ups, over the same chat core as Discord.

In a terminal: a prompt_toolkit prompt with a history file (``<data_dir>/repl_history``), answers
rendered with rich, and ``:`` commands (``:help`` lists them). Ctrl-C abandons the line (or the answer
being computed), Ctrl-D exits.

When standard input or output is not a terminal, each input line is a question (or a ``:`` command) and
each answer is printed in plain text (:func:`bot.render_text.render_text`), followed by a blank line, so
the REPL can be scripted: ``printf 'Q1\\nQ2\\n' | newsdesk repl``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from bot.chat import AskOptions, ChatCore, ChatReply, Conversation
from index import Answer, Article, Citation, NewsdeskError, Settings, parse_day

PROMPT = "newsdesk> "
HISTORY_FILE_NAME = "repl_history"
HELP = """\
Ask a question in plain words; a follow-up continues the last one: "who said that?" names the speaker
of the quoted sentence, "what about X?" asks the last question about X, "and in 2021?" narrows it.
  :sources        list the indexed articles
  :show N         the full passage of source N of the last answer
  :k N            retrieve N passages per question (now: {k})
  :since DATE     only articles from DATE on (YYYY-MM-DD; ':since' alone clears it; now: {since})
  :until DATE     only articles up to DATE (':until' alone clears it; now: {until})
  :asof DATE      answer as if asked on DATE: later articles are not used (':asof' alone: today; now: {as_of})
  :json           toggle raw JSON output (now: {json})
  :new            forget the conversation: the next question starts afresh
  :help           this list
  :quit           leave (or Ctrl-D)"""


class Output(Protocol):
    """Where the REPL shows things: a rich terminal or plain text."""

    def reply(self, reply: ChatReply) -> None: ...

    def passage(self, citation: Citation) -> None: ...

    def sources(self, articles: list[Article]) -> None: ...

    def info(self, text: str) -> None: ...

    def error(self, text: str) -> None: ...

    def json(self, data: object) -> None: ...


@dataclass
class ReplState:
    options: AskOptions = field(default_factory=AskOptions)
    as_json: bool = False
    conversation: Conversation = field(default_factory=Conversation)
    last: Answer | None = None


class Repl:
    """One REPL session: reads lines, runs commands, asks questions. Front-end independent of the terminal."""

    def __init__(self, core: ChatCore, output: Output, k_default: int, state: ReplState | None = None) -> None:
        self.core = core
        self.out = output
        self.k_default = k_default
        self.state = state or ReplState()

    def handle(self, line: str) -> bool:
        """Act on one input line. Returns False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return self.command(line)
        reply = self.core.reply(line, self.state.conversation, self.state.options)
        if reply.answer is not None and reply.answer.citations:  # :show N refers to the last sources seen
            self.state.last = reply.answer
        if self.state.as_json and reply.answer is not None:
            self.out.json(reply.answer.to_json() | {"asked": reply.asked})
        else:
            self.out.reply(reply)
        return True

    def command(self, line: str) -> bool:
        name, _, arg = line[1:].partition(" ")
        name, arg = name.lower(), arg.strip()
        state = self.state
        if name in {"q", "quit", "exit"}:
            return False
        if name in {"h", "help", "?"}:
            opts = state.options
            self.out.info(
                HELP.format(
                    k=opts.k or self.k_default,
                    since=opts.since or "any",
                    until=opts.until or "any",
                    as_of=opts.as_of or "today",
                    json="on" if state.as_json else "off",
                )
            )
        elif name == "sources":
            self.out.sources(self.core.sources())
        elif name == "show":
            self.show(arg)
        elif name == "k":
            if not arg.isdigit() or not 0 < int(arg) <= 100:
                self.out.error(
                    f":k needs a whole number from 1 to 100, e.g. ':k 3' (now: {state.options.k or self.k_default})"
                )
            else:
                state.options = dataclasses.replace(state.options, k=int(arg))
                self.out.info(f"retrieving {arg} passages per question")
        elif name in {"since", "until", "asof", "as_of", "as-of"}:
            self.set_date(name, arg)
        elif name == "json":
            state.as_json = not state.as_json
            self.out.info(f"JSON output {'on' if state.as_json else 'off'}")
        elif name == "new":
            state.conversation = Conversation()
            self.out.info("conversation cleared")
        else:
            self.out.error(f"unknown command ':{name}': type :help for the list")
        return True

    def show(self, arg: str) -> None:
        last = self.state.last
        if last is None or not last.citations:
            self.out.error(":show needs an answer with sources first: ask a question")
            return
        count = len(last.citations)
        if not arg.isdigit() or not 1 <= int(arg) <= count:
            self.out.error(f":show needs a source number from 1 to {count}, e.g. ':show 1'")
            return
        self.out.passage(last.citations[int(arg) - 1])

    def set_date(self, name: str, arg: str) -> None:
        day = None
        if arg and arg.lower() not in {"off", "none", "any", "-"}:
            try:
                day = parse_day(arg, f":{name}")
            except NewsdeskError as err:
                self.out.error(f"{err} (or ':{name}' alone to clear)")
                return
        opts = self.state.options
        if name.startswith("as"):
            self.state.options = dataclasses.replace(opts, as_of=day)
        elif name == "since":
            self.state.options = dataclasses.replace(opts, since=day)
        else:
            self.state.options = dataclasses.replace(opts, until=day)
        if name.startswith("as"):
            self.out.info(f"answering as of {day.isoformat() if day else 'today'}")
        else:
            self.out.info(f"{name} {day.isoformat() if day else 'cleared'}")


class PlainOutput:
    """Plain text for pipes: answers on ``stream``, each followed by a blank line; errors on ``errors``."""

    def __init__(self, stream: IO[str], errors: IO[str]) -> None:
        self.stream = stream
        self.errors = errors

    def _write(self, text: str) -> None:
        self.stream.write(text.rstrip("\n") + "\n\n")
        self.stream.flush()

    def reply(self, reply: ChatReply) -> None:
        from bot.render_text import render_text

        self._write(render_text(reply.answer) if reply.answer is not None else reply.message)

    def passage(self, citation: Citation) -> None:
        from bot.render_text import source_line

        self._write(f"{source_line(citation)}\n{citation.passage}")

    def sources(self, articles: list[Article]) -> None:
        from bot.render_text import article_line

        self._write("\n".join(article_line(a) for a in articles))

    def info(self, text: str) -> None:
        self.errors.write(text + "\n")

    def error(self, text: str) -> None:
        self.errors.write(f"newsdesk: {text}\n")

    def json(self, data: object) -> None:
        self.stream.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.stream.flush()


class RichOutput:
    """Rich rendering on a terminal console."""

    def __init__(self, console: object) -> None:
        from rich.console import Console

        assert isinstance(console, Console)
        self.console = console

    def reply(self, reply: ChatReply) -> None:
        from bot import render_rich

        self.console.print(render_rich.render_reply(reply))
        self.console.print()

    def passage(self, citation: Citation) -> None:
        from bot import render_rich

        self.console.print(render_rich.passage(citation))
        self.console.print()

    def sources(self, articles: list[Article]) -> None:
        from bot import render_rich

        self.console.print(render_rich.sources_table(articles))

    def info(self, text: str) -> None:
        self.console.print(text, style="dim", markup=False, highlight=False)

    def error(self, text: str) -> None:
        self.console.print(text, style="red", markup=False, highlight=False)

    def json(self, data: object) -> None:
        self.console.print_json(json.dumps(data, ensure_ascii=False))


def history_path(settings: Settings) -> Path:
    return settings.data_dir / HISTORY_FILE_NAME


def run_piped(repl: Repl, lines: IO[str]) -> None:
    for line in lines:
        if not repl.handle(line):
            break


def run_interactive(repl: Repl, session: object) -> None:
    """The prompt loop. ``session`` is a prompt_toolkit ``PromptSession``."""
    from prompt_toolkit import PromptSession

    assert isinstance(session, PromptSession)
    while True:
        try:
            line = session.prompt(PROMPT)
        except KeyboardInterrupt:  # Ctrl-C: abandon the line, keep going
            continue
        except EOFError:  # Ctrl-D
            break
        try:
            if not repl.handle(line):
                break
        except KeyboardInterrupt:  # Ctrl-C while answering: abandon that question
            repl.out.info("(abandoned)")


def run(settings: Settings, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
    """Open the index once and run the REPL: interactive on a terminal, line by line otherwise."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    from index import Newsdesk, require_extra, update_message

    if interactive:  # before the model loads: the prompt is what a terminal needs, piped lines are read plainly
        require_extra("prompt_toolkit", "newsdesk repl at a terminal")

    started = time.perf_counter()
    if interactive:
        sys.stderr.write("Loading the model and the index…\n")
    desk = Newsdesk.open(settings)
    if desk.build_report.wrote:
        sys.stderr.write(desk.build_report.summary() + "\n")
    # New, changed and removed articles are picked up in the background (index.watch); a daemon thread.
    desk.watch(lambda report, change: sys.stderr.write(update_message(report, change) + "\n"))
    core = ChatCore(desk, settings.max_question_chars)
    if not interactive:
        run_piped(Repl(core, PlainOutput(stdout, sys.stderr), settings.k), stdin)
        return

    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from rich.console import Console

    core.warm_up()  # the first question pays for lazy loading: pay it before the prompt shows

    console = Console(file=stdout)
    history_file = history_path(settings)
    try:
        history_file.parent.mkdir(parents=True, exist_ok=True)
        history: FileHistory | InMemoryHistory = FileHistory(str(history_file))
    except OSError:  # a read-only data dir must not stop the REPL; only history is lost
        history = InMemoryHistory()
    session: PromptSession[str] = PromptSession(history=history)
    count = len(desk.sources())
    console.print(
        f"Newsdesk · {count} articles · ready in {time.perf_counter() - started:.1f} s. "
        "Ask a question, or :help. Ctrl-D quits.",
        style="dim",
        markup=False,
    )
    run_interactive(Repl(core, RichOutput(console), settings.k), session)
