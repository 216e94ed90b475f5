"""A corpus of bad and odd inputs, generated in code, with the outcome each must give.

Every case writes one input under a folder and returns the path to pass on the command line. The
documented outcome is either "read" with an exact number of reader warnings (``warnings``), or
"error": exit 2 with one line that names the file and the problem (``error``). ``strict_error`` is
what ``--strict`` must fail with when lenient reading only warns (``None``: strict reads it too).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.logs.log_writers import write_events, write_trainer_state

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_WANDB = next((ROOT / "sample_logs" / "wandb").glob("*/run-*.wandb"))


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path], Path]
    warnings: int = 0
    error: str | None = None
    strict_error: str | None = None
    entropy: bool = True
    """False: the input has no entropy metric (analyze says so, exit 2)."""
    shows: str | None = None
    """Text the inspect table must show literally (names that look like markup or hold control characters)."""


def entropy(step: int) -> float:
    return round(1.0 + 0.6 * math.sin(step / 6.0) + 0.002 * step, 6)


# ---------------------------------------------------------------- our JSONL


def jsonl_records(n: int = 60, name: str = "run", config: object = None) -> list[str]:
    lines = [json.dumps({"type": "header", "run": name, "config": {"lr": 1e-5} if config is None else config,
                         "versions": {}})]
    lines += [json.dumps({"type": "metrics", "step": s, "time": 0.0,
                          "metrics": {"policy/entropy": entropy(s), "reward/mean": s / 100}})
              for s in range(1, n + 1)]
    return lines


def text_file(file_name: str, lines: list[str] | Callable[[], list[str]], *, end: str = "\n",
              encoding: str = "utf-8", tail: str | None = None) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        body = end.join(lines() if callable(lines) else lines) + end + (tail or "")
        path = folder / file_name
        path.write_bytes(body.encode(encoding, "surrogatepass"))
        return path
    return write


def jsonl(lines: list[str], **options) -> Callable[[Path], Path]:
    return text_file("m.jsonl", lines, **options)


def with_line(index: int, text: str, base: list[str] | None = None) -> list[str]:
    """The standard log with line ``index`` (0-based; 0 is the header) replaced by ``text``."""
    lines = list(base or jsonl_records())
    lines[index] = text
    return lines


def metric_line(step: int, **metrics: object) -> str:
    return json.dumps({"type": "metrics", "step": step, "metrics": {"policy/entropy": entropy(step), **metrics}})


def raw_metric_line(step: str, value: str) -> str:
    return f'{{"type": "metrics", "step": {step}, "metrics": {{"policy/entropy": {value}}}}}'


def named(name: object) -> Callable[[Path], Path]:
    return jsonl(jsonl_records(name=name))  # type: ignore[arg-type]


def random_bytes(file_name: str, size: int = 4096, seed: int = 0, prefix: bytes = b"") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / file_name
        path.write_bytes(prefix + random.Random(seed).randbytes(size))
        return path
    return write


def nested_metrics(depth: int) -> str:
    return '{"type": "metrics", "step": 7, "metrics": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


JSONL_CASES = [
    Case("jsonl ok", jsonl(jsonl_records())),
    Case("jsonl corrupt line", jsonl(with_line(10, '{"type": "metrics", "step": 10, "metr')), 1,
         strict_error="m.jsonl:11: corrupt JSON line"),
    Case("jsonl trailing partial line", jsonl(jsonl_records(), tail='{"type": "metrics", "st'), 1),
    Case("jsonl 400-digit value", jsonl(with_line(7, raw_metric_line("7", "9" * 400))), 1,
         strict_error="m.jsonl:8: non-finite value"),
    Case("jsonl 5000-digit value", jsonl(with_line(7, raw_metric_line("7", "9" * 5000))), 1,
         strict_error="m.jsonl:8: non-finite value"),
    Case("jsonl 5000-digit step", jsonl(with_line(7, raw_metric_line("9" * 5000, "1.0"))), 1,
         strict_error="m.jsonl:8: record has no integer 'step'"),
    Case("jsonl 400-digit step", jsonl(with_line(7, raw_metric_line("9" * 400, "1.0"))), 1,
         strict_error="m.jsonl:8: step 99999999999999999999... (400 digits) does not fit"),
    Case("jsonl negative 400-digit value", jsonl(with_line(7, raw_metric_line("7", "-" + "9" * 400))), 1,
         strict_error="non-finite value"),
    Case("jsonl 1e400 float", jsonl(with_line(7, raw_metric_line("7", "1e400"))), 1, strict_error="non-finite"),
    Case("jsonl 100k nested [", jsonl(with_line(7, "[" * 100_000)), 1,
         strict_error="m.jsonl:8: corrupt JSON line (nested too deeply)"),
    Case("jsonl 100k nested { in metrics", jsonl(with_line(7, nested_metrics(100_000))), 1,
         strict_error="nested too deeply"),
    Case("jsonl 400-deep metrics flattened", jsonl(with_line(7, nested_metrics(400)))),
    Case("jsonl config is a string", jsonl(jsonl_records(config="notadict")), 1),
    Case("jsonl config is a list", jsonl(jsonl_records(config=[1, 2])), 1),
    Case("jsonl run name of 100k characters", named("r" * 100_000)),
    Case("jsonl run name with a closing tag", named("ablation [/x]"), shows="ablation [/x]"),
    Case("jsonl run name grpo [seed 1]", named("grpo [seed 1]"), shows="grpo [seed 1]"),
    Case("jsonl run name grpo[lr=1e-4]", named("grpo[lr=1e-4]"), shows="grpo[lr=1e-4]"),
    Case("jsonl run name with [bold] markup", named("[bold red]loud[/]"), shows="[bold red]loud[/]"),
    Case("jsonl run name with ANSI colours", named("\x1b[31mred\x1b[0m"), shows="\\x1b[31mred"),
    Case("jsonl run name that clears the screen", named("a\x1b[2J\x1b[Hb"), shows="a\\x1b[2J"),
    Case("jsonl run name with bidi override", named("abc\u202edef"), shows="abc\\u202edef"),
    Case("jsonl run name with a bell and NUL", named("x\x07y\x00z"), shows="x\\x07y\\x00z"),
    Case("jsonl run name with a lone surrogate", jsonl(with_line(0, '{"type": "header", "run": "s\\ud800t"}')),
         shows="s\ufffdt"),
    Case("jsonl run name is an object", jsonl(with_line(0, '{"type": "header", "run": {"x": 1}}'))),
    Case("jsonl metric name with markup", jsonl(with_line(7, metric_line(7, **{"[red]x[/red]": 1.0}))),
         shows="[red]x[/red]"),
    Case("jsonl metric name with escape codes", jsonl(with_line(7, metric_line(7, **{"k\x1b[1mbold": 1.0}))),
         shows="k\\x1b[1mbold"),
    Case("jsonl UTF-16 LE with BOM", jsonl(jsonl_records(), encoding="utf-16")),
    Case("jsonl UTF-16 BE with BOM", lambda f: _bom_file(f, "utf-16-be", b"\xfe\xff")),
    Case("jsonl UTF-16 LE without BOM", jsonl(jsonl_records(), encoding="utf-16-le")),
    Case("jsonl UTF-32 with BOM", jsonl(jsonl_records(), encoding="utf-32")),
    Case("jsonl UTF-8 BOM", jsonl(jsonl_records(), encoding="utf-8-sig")),
    Case("jsonl \\r line endings", jsonl(jsonl_records(), end="\r")),
    Case("jsonl \\r\\n line endings", jsonl(jsonl_records(), end="\r\n")),
    Case("jsonl random bytes", random_bytes("m.jsonl"), error="m.jsonl: no metric records found",
         strict_error="m.jsonl:"),
    Case("jsonl empty file", jsonl([], end=""), error="m.jsonl: file is empty"),
    Case("jsonl blank lines only", jsonl(["", "   ", "\t"]), error="m.jsonl: no metric records found (empty file?)"),
    Case("jsonl NaN literal", jsonl(with_line(7, raw_metric_line("7", "NaN"))), 1, strict_error="non-finite"),
    Case("jsonl null value", jsonl(with_line(7, raw_metric_line("7", "null"))), 1),
    Case("jsonl string value", jsonl(with_line(7, raw_metric_line("7", '"abc"'))), 1,
         strict_error="m.jsonl:8: non-numeric value 'abc'"),
    Case("jsonl 'inf' string", jsonl(with_line(7, raw_metric_line("7", '"inf"'))), 1, strict_error="non-finite"),
    Case("jsonl bool value", jsonl(with_line(7, raw_metric_line("7", "true")))),
    Case("jsonl step as a string", jsonl(with_line(7, raw_metric_line('"7"', "1.0"))), 1,
         strict_error="no integer 'step'"),
    Case("jsonl fractional step", jsonl(with_line(7, raw_metric_line("7.5", "1.0"))), 1,
         strict_error="no integer 'step'"),
    Case("jsonl step 2**63", jsonl(with_line(7, raw_metric_line(str(2**63), "1.0"))), 1,
         strict_error="step 9223372036854775808 does not fit"),
    Case("jsonl a step of 2**53 (merges with its neighbours as a float)",
         jsonl(with_line(7, raw_metric_line(str(2**53), "1.0"))), 1,
         strict_error="m.jsonl:8: step 9007199254740992 does not fit"),
    Case("jsonl every step near 2**62",
         jsonl([json.dumps({"step": 2**62 + s, "entropy": entropy(s)}) for s in range(60)]),
         error="m.jsonl: no metric records found (60 unusable lines", strict_error="m.jsonl:1: step 46116860"),
    Case("jsonl steps going back", jsonl(jsonl_records(40) + jsonl_records(60)[21:]), 2,
         strict_error="m.jsonl:42: step 21 goes back from step 40"),
    Case("jsonl a step logged twice", jsonl(with_line(8, metric_line(7))), 1, strict_error="step 7 repeats"),
    Case("jsonl a JSON array line", jsonl(with_line(7, "[1, 2]")), 1, strict_error="line is not a JSON object"),
    Case("jsonl metrics is a list", jsonl(with_line(7, '{"type": "metrics", "step": 7, "metrics": [1, 2]}')), 1,
         strict_error="'metrics' is not a JSON object"),
    Case("jsonl NUL bytes in a line", jsonl(with_line(7, "\x00" * 20)), 1, strict_error="corrupt JSON line"),
    Case("jsonl a 1 MB blank line", jsonl(with_line(7, " " * 1_000_000))),
    Case("jsonl a 1 MB garbage line", jsonl(with_line(7, "x" * 1_000_000)), 1, strict_error="corrupt JSON line"),
    Case("jsonl verl data lines", jsonl([json.dumps({"step": s, "data": {"actor/entropy": entropy(s)}})
                                         for s in range(1, 61)])),
    Case("jsonl flat lines", jsonl([json.dumps({"step": s, "entropy": entropy(s)}) for s in range(1, 61)])),
    Case("jsonl flat lines keyed by global_step", jsonl([json.dumps({"global_step": s, "entropy": entropy(s)})
                                                         for s in range(1, 61)])),
    Case("jsonl flat lines keyed by Iteration, one fractional", jsonl(
        [json.dumps({"Iteration": s, "entropy": entropy(s)}) for s in range(1, 61)] + ['{"Iteration": 61.5}']), 1,
        strict_error="m.jsonl:61: record has no integer 'step' (got 61.5)"),
    Case("jsonl without entropy", jsonl([json.dumps({"step": s, "reward": s}) for s in range(1, 61)]),
         entropy=False),
    Case("jsonl 2000 metrics in a line", jsonl(with_line(7, metric_line(7, **{f"m{i}": i for i in range(2000)})))),
    Case("jsonl header only", jsonl(jsonl_records(0)), entropy=False),
    Case("jsonl every entropy value null", jsonl([json.dumps({"step": s, "entropy": None, "reward": s})
                                                  for s in range(1, 61)]), 1, entropy=False),
]


def _bom_file(folder: Path, encoding: str, bom: bytes) -> Path:
    path = folder / "m.jsonl"
    path.write_bytes(bom + "\n".join(jsonl_records()).encode(encoding) + "\n".encode(encoding))
    return path


# ---------------------------------------------------------------- verl console


def verl_lines(n: int = 60) -> list[str]:
    lines = ["INFO config: {'actor': {'lr': 1e-6}}", "Training Progress:   0%|          | 0/60"]
    lines += [f"(TaskRunner pid=42) step:{s} - actor/entropy:{entropy(s)} - critic/score/mean:{s / 100}"
              for s in range(1, n + 1)]
    return lines


def verl(lines: list[str], **options) -> Callable[[Path], Path]:
    return text_file("train.log", lines, **options)


def verl_with(index: int, text: str) -> list[str]:
    lines = verl_lines()
    lines[index] = text
    return lines


VERL_CASES = [
    Case("verl ok", verl(verl_lines())),
    Case("verl a line of 300k spaces", verl(verl_with(1, " " * 300_000))),
    Case("verl 300k spaces inside a record",
         verl(verl_with(8, "step:7 - actor/entropy:1.0" + " " * 300_000 + "- x:1"))),
    Case("verl 100k dashes in a record", verl(verl_with(8, "step:7 - actor/entropy:1 - " + "- " * 100_000)), 1,
         strict_error="train.log:9: non-numeric value"),
    Case("verl 100k empty fields", verl(verl_with(8, "step:7 - " + " - x:" * 100_000)), 1,
         strict_error="train.log:9: non-numeric value"),
    Case("verl 5000-digit step", verl(verl_with(8, "step:" + "9" * 5000 + " - actor/entropy:1.0")), 1,
         strict_error="train.log:9: step does not fit (|step| >= 2^53"),
    Case("verl 20-digit step", verl(verl_with(8, "step:" + "9" * 20 + " - actor/entropy:1.0")), 1,
         strict_error="step does not fit"),
    Case("verl 400-digit value", verl(verl_with(8, "step:7 - actor/entropy:" + "9" * 400)), 1,
         strict_error="non-finite"),
    Case("verl ANSI colours", verl([f"\x1b[36m(TaskRunner pid=1)\x1b[0m step:{s} - actor/entropy:{entropy(s)}"
                                    for s in range(1, 61)])),
    Case("verl wrapped values", verl([f"step:{s} - actor/entropy:np.float64({entropy(s)}) - n:np.int64(3)"
                                      for s in range(1, 61)])),
    Case("verl a non-numeric value", verl(verl_with(8, "step:7 - actor/entropy:abc")), 1,
         strict_error="non-numeric value 'abc'"),
    Case("verl UTF-16", verl(verl_lines(), encoding="utf-16")),
    Case("verl \\r line endings", verl(verl_lines(), end="\r")),
    Case("verl steps going back (resume)", verl(verl_lines(40) + verl_lines(60)[22:]), 2,
         strict_error="step 21 goes back from step 40"),
    Case("verl markup in a key", verl(verl_with(8, "step:7 - actor/entropy:1.0 - [red]k[/red]:2")),
         shows="[red]k[/red]"),
    Case("verl a key with an escape code (ANSI codes are stripped)",
         verl(verl_with(8, "step:7 - actor/entropy:1.0 - k\x1b[2J:2"))),
    Case("verl no record lines", verl(["hello", "world"]), error="train.log: unknown log format"),
    Case("verl NUL bytes", verl(verl_with(1, "\x00" * 100))),
]


def hf_lines(n: int = 60, step: bool = True) -> list[str]:
    return [f"{{'loss': {1 / s:.4f}, 'entropy': {entropy(s)}, 'reward': {s / 100}, 'epoch': {s / 600:.2f}"
            + (f", 'step': {s}}}" if step else "}") for s in range(1, n + 1)]


def hf_with(index: int, text: str) -> list[str]:
    lines = hf_lines()
    lines[index] = text
    return lines


def two_verl_runs() -> list[str]:
    return verl_lines(30) + [f"step:{s} - actor/entropy_loss:{entropy(s)}" for s in range(1, 61)]


HF_CASES = [
    Case("hf stdout ok", text_file("train.out", hf_lines())),
    Case("hf stdout without steps", text_file("train.out", hf_lines(step=False)), 1),
    Case("hf stdout a nan loss", text_file("train.out", hf_with(7, "{'loss': nan, 'entropy': 1.0, 'step': 8}")), 1,
         strict_error="train.out:8: non-finite value"),
    Case("hf stdout a broken dict is other output", text_file("train.out", hf_with(7, "{'loss': [1, {'a': "))),
    Case("hf stdout a non-numeric value", text_file("train.out", hf_with(7, "{'loss': 'abc', 'step': 8}")), 1,
         strict_error="train.out:8: non-numeric value 'abc'"),
    Case("hf stdout 100k nested braces", text_file("train.out", hf_with(7, "{'loss': " + "{" * 100_000))),
    Case("hf stdout a run name in markup", text_file("[b]x[b].out", hf_lines()), shows="[b]x[b]"),
    Case("verl two runs in one log", verl(two_verl_runs()), 1),
]


# ---------------------------------------------------------------- CSV, TSV, W&B export, Parquet


def csv_lines(n: int = 60, sep: str = ",") -> list[str]:
    return [sep.join(["step", "actor/entropy", "reward"])] + [
        sep.join([str(s), str(entropy(s)), str(s / 100)]) for s in range(1, n + 1)]


def csv_with(index: int, text: str) -> list[str]:
    lines = csv_lines()
    lines[index] = text
    return lines


def csv(lines: list[str], **options) -> Callable[[Path], Path]:
    return text_file("m.csv", lines, **options)


def parquet(frame: pd.DataFrame) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "m.parquet"
        frame.to_parquet(path)
        return path
    return write


EXPORT_HEADER = "Step,grpo [seed 1] - actor/entropy,grpo [seed 1] - actor/entropy__MIN,grpo[lr=1e-4] - actor/entropy"

CSV_CASES = [
    Case("csv ok", csv(csv_lines())),
    Case("csv unterminated quote", csv(csv_with(5, '5,"0.4,0.05')), 2, strict_error="m.csv:6: a quote opened here"),
    Case("csv a row with too many fields", csv(csv_with(5, "5,0.4,0.05,extra")), 1, strict_error="malformed CSV"),
    Case("csv from Excel with ';' and decimal commas", csv([line.replace(",", ";").replace(".", ",")
                                                            for line in csv_lines()])),
    Case("csv no step column", csv(["a,b", "1,2"]), error="m.csv: no step column"),
    Case("csv UTF-16", csv(csv_lines(), encoding="utf-16")),
    Case("csv \\r line endings", csv(csv_lines(), end="\r")),
    Case("csv empty", csv([], end=""), error="m.csv: file is empty"),
    Case("csv header only", csv(csv_lines(0)), entropy=False),
    Case("csv entropy with decimal commas", csv(["step,entropy"] + [f'{s},"{entropy(s)}"'.replace(".", ",")
                                                                    for s in range(1, 61)]), 1,
         strict_error="m.csv:2: non-numeric value", entropy=False),
    Case("csv fractional step", csv(csv_with(5, "4.5,0.4,0.1")), 1, strict_error="m.csv:6: no integer step"),
    Case("csv nan cells", csv(csv_with(5, "5,nan,0.1")), 1, strict_error="non-finite"),
    Case("csv step 1e30", csv(csv_with(5, "1e30,0.4,0.1")), 1, strict_error="no integer step"),
    Case("csv 5000-digit cell", csv(csv_with(5, "5," + "9" * 5000 + ",0.1")), 1, strict_error="m.csv:6"),
    Case("csv 5000-digit step", csv(csv_with(5, "9" * 5000 + ",0.4,0.1")), 1, strict_error="no integer step"),
    Case("csv random bytes", random_bytes("m.csv", seed=3), error="m.csv: "),
    Case("csv markup column", csv(["step,actor/entropy,[bold]x[/bold]", *csv_lines()[1:]]), shows="[bold]x[/bold]"),
    Case("csv 100k-character column", csv(["step,actor/entropy," + "c" * 100000, *csv_lines()[1:]])),
    Case("csv a step logged twice", csv(csv_with(6, "5,0.4,0.1")), 1, strict_error="step 5 repeats"),
    Case("tsv saved as .csv", csv(csv_lines(sep="\t"))),
    Case("tsv ok", text_file("m.tsv", csv_lines(sep="\t"))),
    Case("wandb export with bracketed run names", text_file("export.csv", [EXPORT_HEADER] + [
        f"{s},{entropy(s)},{entropy(s)},{entropy(s + 3)}" for s in range(1, 61)]), shows="grpo [seed 1]"),
    Case("wandb export fractional x", text_file("export.csv", ["Step,a - actor/entropy", "0.5,1", "1.5,2"]),
         error="export.csv: x column 'Step' is not an integer step"),
    Case("wandb export only MIN/MAX", text_file("export.csv", ["Step,a - x__MIN,a - x__MAX", "1,1,2"]),
         error="export.csv: the W&B export holds only __MIN/__MAX"),
    Case("wandb export run name with escape codes", text_file("export.csv", ["Step,r\x1b[5m - actor/entropy"] + [
        f"{s},{entropy(s)}" for s in range(1, 61)]), shows="r\\x1b[5m"),
    Case("tensorboard CSV download (Wall time, Step, Value)", text_file("run-grpo-tag-actor_entropy.csv", [
        "Wall time,Step,Value"] + [f"{1733500000.5 + s},{s},{entropy(s)}" for s in range(1, 61)]), shows="grpo"),
    Case("parquet ok", parquet(pd.DataFrame({"step": range(1, 61), "entropy": [entropy(s) for s in range(1, 61)]}))),
    Case("parquet random bytes", random_bytes("m.parquet", prefix=b"PAR1"), error="m.parquet: not a readable Parquet"),
    Case("parquet no step column", parquet(pd.DataFrame({"a": [1.0]})), error="m.parquet: no step column"),
]


# ---------------------------------------------------------------- HF trainer_state.json


def trainer_state(history: list[dict] | None = None, **fields: object) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        entries = history if history is not None else [
            {"step": s, "entropy": entropy(s), "loss": 1.0 / s} for s in range(1, 61)]
        return write_trainer_state(folder / "out", entries, **fields)
    return write


def state_text(text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "trainer_state.json"
        path.write_bytes(text.encode(encoding))
        return path
    return write


def with_bad_config(folder: Path) -> Path:
    path = trainer_state()(folder)
    (path.parent / "config.json").write_text("{not json")
    return path


GOOD_STATE = json.dumps({"log_history": [{"step": s, "entropy": entropy(s)} for s in range(1, 61)]})
HF_STATE = json.dumps({"best_metric": None, "epoch": 1.0, "global_step": 60, "log_history": [
    {"step": s, "entropy": entropy(s), "loss": 1 / s} for s in range(1, 61)], "logging_steps": 1, "max_steps": 60},
    indent=2, sort_keys=True)

STATE_CASES = [
    Case("trainer_state ok", trainer_state()),
    Case("trainer_state invalid JSON", state_text('{"log_history": [}'),
         error="trainer_state.json:1: invalid JSON"),
    Case("trainer_state 100k nested", state_text("[" * 100_000), error="trainer_state.json: invalid JSON (nested"),
    Case("trainer_state log_history not a list", state_text('{"log_history": 3}'),
         error="trainer_state.json: not a trainer_state.json"),
    Case("trainer_state entries without a step", trainer_state(
        [{"loss": 1.0}] + [{"step": s, "entropy": entropy(s)} for s in range(1, 61)]), 1,
        strict_error="log_history[0] has no integer 'step'"),
    Case("trainer_state 400-digit value", state_text(GOOD_STATE.replace('"step": 9,', '"step": 9, "x": ' + "9" * 400
                                                                        + ",")), 1, strict_error="non-finite"),
    Case("trainer_state 5000-digit value", state_text(GOOD_STATE.replace('"step": 9,', '"step": 9, "x": ' + "9" * 5000
                                                                         + ",")), 1, strict_error="non-finite"),
    Case("trainer_state UTF-16", state_text(GOOD_STATE, "utf-16")),
    Case("trainer_state cut short mid-entry", state_text(GOOD_STATE[: len(GOOD_STATE) // 2]), 1,
         strict_error="trainer_state.json:1: invalid JSON"),
    Case("trainer_state as the Trainer writes it, cut after log_history", state_text(HF_STATE[: HF_STATE.index(
        '"logging_steps"') + 5]), 1, strict_error="trainer_state.json:"),
    Case("trainer_state cut before log_history", state_text(HF_STATE[:40]),
         error="trainer_state.json:3: invalid JSON"),
    Case("trainer_state unreadable config.json", with_bad_config, 1),
]


# ---------------------------------------------------------------- TensorBoard and W&B binary files


def tb_file(folder: Path) -> Path:
    return write_events(folder, {"policy/entropy": [(s, entropy(s)) for s in range(120)]})


def tb_damaged(damage: Callable[[bytearray], None]) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = tb_file(folder)
        data = bytearray(path.read_bytes())
        damage(data)
        path.write_bytes(bytes(data))
        return path
    return write


def flip_middle(data: bytearray) -> None:
    data[len(data) // 2] ^= 0xFF


def zero_2k(data: bytearray) -> None:
    start = len(data) // 3
    data[start:start + 2048] = bytes(2048)


def cut_tail(data: bytearray) -> None:
    del data[-5:]


def tb_events(points: dict[str, list[tuple[int, float]]]) -> Callable[[Path], Path]:
    return lambda folder: write_events(folder, points)


def wandb_damaged(damage: Callable[[bytearray], None] | None) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "run-x.wandb"
        shutil.copyfile(SAMPLE_WANDB, path)
        if damage is not None:
            data = bytearray(path.read_bytes())
            damage(data)
            path.write_bytes(bytes(data))
        return path
    return write


def random_third(data: bytearray) -> None:
    start = len(data) // 3
    data[start:start + 2048] = random.Random(1).randbytes(2048)


def cut_mid_record(data: bytearray) -> None:
    del data[len(data) - 5000:]


BINARY_CASES = [
    Case("tensorboard ok", tb_file),
    Case("tensorboard one flipped byte", tb_damaged(flip_middle), 1, strict_error="corrupt data after event"),
    Case("tensorboard 2 KB zeroed", tb_damaged(zero_2k), 1, strict_error="corrupt data after event"),
    Case("tensorboard cut tail", tb_damaged(cut_tail), 1),
    Case("tensorboard a step beyond 2**53", tb_events({"policy/entropy": [(s, entropy(s)) for s in range(60)]
                                                    + [(2**60, 1.0)]}), 1,
         strict_error="step 1152921504606846976 does not fit"),
    Case("tensorboard random bytes", random_bytes("events.out.tfevents.1.host"),
         error="events.out.tfevents.1.host: not a TensorBoard event file"),
    Case("tensorboard zero bytes", random_bytes("events.out.tfevents.2.host", size=0),
         error="events.out.tfevents.2.host: file is empty"),
    Case("tensorboard NaN values", tb_events({"policy/entropy": [(s, math.nan if s == 5 else entropy(s))
                                                                  for s in range(60)]}), 1,
         strict_error="non-finite value"),
    Case("tensorboard tag with markup and escapes", tb_events({"policy/entropy": [(s, entropy(s)) for s in range(60)],
                                                               "[b]t\x1b[2J": [(1, 1.0)]}), shows="[b]t\\x1b[2J"),
    Case("wandb offline sample", wandb_damaged(None), 1, strict_error="non-finite"),
    Case("wandb offline 2 KB random a third in", wandb_damaged(random_third), 2, strict_error="corrupt data after"),
    Case("wandb offline 2 KB zeroed", wandb_damaged(zero_2k), 2, strict_error="corrupt data after"),
    Case("wandb offline one flipped byte", wandb_damaged(flip_middle), 2, strict_error="corrupt data after"),
    Case("wandb offline cut mid-record", wandb_damaged(cut_mid_record), 2, strict_error="non-finite"),
    Case("wandb offline random bytes after the header", random_bytes("run-y.wandb", 40_000, prefix=b":W&B\xe1\xbe\x00"),
         error="run-y.wandb: no W&B run or history records found", strict_error="run-y.wandb: corrupt data"),
    Case("wandb offline no magic", random_bytes("run-z.wandb"), error="run-z.wandb: not a W&B run file"),
]


# ---------------------------------------------------------------- paths


def fifo(folder: Path) -> Path:
    path = folder / "pipe.jsonl"
    os.mkfifo(path)
    return path


def empty_folder(folder: Path) -> Path:
    (folder / "empty").mkdir()
    return folder / "empty"


def folder_of_notes(folder: Path) -> Path:
    (folder / "notes").mkdir()
    (folder / "notes" / "README.md").write_text("# hi\n")
    return folder / "notes"


def folder_named_jsonl(folder: Path) -> Path:
    (folder / "x.jsonl").mkdir()
    return folder / "x.jsonl"


def _only_empty(folder: Path) -> Path:
    (folder / "only").mkdir()
    (folder / "only" / "x.jsonl").write_bytes(b"")
    return folder / "only"


def _symlink(link: Path, target: Path) -> Path:
    """``link`` -> ``target``; returns the folder the link is in when the target is that folder (a loop)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return target if target == link.parent else link


def fifo_named(name: str) -> Callable[[Path], Path]:
    """A folder holding only a FIFO with a log's name (reading it would block for ever)."""
    def write(folder: Path) -> Path:
        (folder / "run").mkdir()
        os.mkfifo(folder / "run" / name)
        return folder / "run"
    return write


def loose_logs(*, beside_run: bool = False, empty: bool = False) -> Callable[[Path], Path]:
    """A folder of log files lying loose (not in run folders): a verl console log, a CSV, a JSONL, notes."""
    def write(folder: Path) -> Path:
        logs = folder / "logs"
        logs.mkdir()
        text_file("train.log", verl_lines())(logs)
        text_file("history.csv", csv_lines())(logs)
        text_file("m.jsonl", jsonl_records())(logs)
        text_file("notes.txt", ["not a log"])(logs)
        text_file("debug.log", ["INFO starting"])(logs)
        if beside_run:
            (logs / "run1").mkdir()
            text_file("metrics.jsonl", jsonl_records())(logs / "run1")
        if empty:
            (logs / "new.jsonl").write_bytes(b"")
        return logs
    return write


def gzip_of(data: bytes, name: str = "m.jsonl.gz", damage_at: int | None = None) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        packed = bytearray(gzip.compress(data, mtime=0))
        if damage_at is not None:
            packed[damage_at] = 0xFF  # the first deflate byte: BFINAL=1, BTYPE=11 (reserved): zlib refuses it
        path = folder / name
        path.write_bytes(bytes(packed))
        return path
    return write


def _appended(path: Path, data: bytes) -> Path:
    path.write_bytes(path.read_bytes() + data)
    return path


def _cut(path: Path, size: int) -> Path:
    path.write_bytes(path.read_bytes()[:size])
    return path


GOOD_JSONL = ("\n".join(jsonl_records()) + "\n").encode()

PATH_CASES = [
    Case("missing path", lambda folder: folder / "missing.jsonl", error="missing.jsonl: no such file or folder"),
    Case("a FIFO", fifo, error="pipe.jsonl: not a regular file or folder"),
    Case("a symlink to itself", lambda folder: _symlink(folder / "loop.jsonl", folder / "loop.jsonl"),
         error="loop.jsonl: a symlink that leads to nothing"),
    Case("a symlink to a missing file", lambda folder: _symlink(folder / "gone.jsonl", folder / "nowhere.jsonl"),
         error="gone.jsonl: a symlink that leads to nothing"),
    Case("a folder holding a symlink loop", lambda folder: _symlink(folder / "top" / "down", folder / "top"),
         error="top: folder holds no log"),
    Case("an empty folder", empty_folder, error="empty: folder holds no log this tool reads"),
    Case("a folder of notes", folder_of_notes, error="notes: folder holds no log this tool reads"),
    Case("a folder named x.jsonl", folder_named_jsonl, error="x.jsonl: folder holds no log this tool reads"),
    Case("a folder holding a FIFO named run-x.wandb", fifo_named("run-x.wandb"), error="run: folder holds no log"),
    Case("a folder holding a FIFO named events.out.tfevents.1", fifo_named("events.out.tfevents.1"),
         error="run: folder holds no log"),
    Case("a folder of loose log files", loose_logs()),
    Case("loose log files beside a run folder", loose_logs(beside_run=True)),
    Case("an empty loose .jsonl in a folder", loose_logs(empty=True), 1,
         strict_error="new.jsonl: no metric records found (empty file?)"),
    Case("a folder holding only an empty .jsonl", _only_empty, error="x.jsonl: no metric records found (empty file?)"),
    Case("gzip holding random bytes", gzip_of(random.Random(2).randbytes(4000)),
         error="m.jsonl.gz: no metric records found", strict_error="m.jsonl.gz:1: corrupt JSON line"),
    Case("gzip holding a binary named train.log",
         gzip_of(b"\x7fELF" + random.Random(3).randbytes(3000), "train.log.gz"),
         error="train.log.gz: unknown log format"),
    Case("gzip with damaged compressed data", gzip_of(GOOD_JSONL, damage_at=10),
         error="m.jsonl.gz: not a readable gzip file"),
    Case("gzip with junk appended after it", lambda folder: _appended(gzip_of(GOOD_JSONL)(folder), b"junk\n" * 20), 1,
         strict_error="m.jsonl.gz: bytes after the compressed data"),
    Case("gzip cut inside its header", lambda folder: _cut(gzip_of(GOOD_JSONL)(folder), 6),
         error="m.jsonl.gz: holds no data after decompression"),
    Case("gzip with a non-numeric value", gzip_of("\n".join(with_line(7, raw_metric_line("7", '"abc"'))).encode()), 1,
         strict_error="m.jsonl.gz:8: non-numeric value 'abc'"),
    Case("garbage with an unknown suffix", random_bytes("blob.bin", seed=5), error="blob.bin: unknown log format"),
]

CASES = JSONL_CASES + VERL_CASES + HF_CASES + CSV_CASES + STATE_CASES + BINARY_CASES + PATH_CASES
