"""Render-farm jobs: an Open Job Description template that renders a shot in chunks.

`stylereel farm-job MODEL SHOT --frames 1001-1100 --chunk 10 --output OUT.####.exr -o job.yaml`
writes a job template (OpenJD `jobtemplate-2023-09` with the `TASK_CHUNKING` extension) that
`openjd run job.yaml` runs on one machine and OpenJD farms (AWS Deadline Cloud) run across many.
Its one step has a frame task parameter over the shot's frames, cut into contiguous chunks, and
each task is an ordinary render:

    stylereel stylize MODEL SHOT --frames <the shot> --only <the chunk> -o OUT.####.exr [options]

`--only` renders the chunk's frames alone (`RenderPlan.part`); under `--temporal` a chunk first
renders the frames before it unwritten, so chunks join as a whole render does. A task retried
after a crash skips the frames already written (outputs are written whole, temp file + rename),
so every task is idempotent. The paths are job parameters of type PATH, written relative to the
template's folder as OpenJD asks (a farm maps them to its workers' storage); the stylize options
are fixed in the template.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from stylereel.io.atomic import atomic_write_text
from stylereel.io.sequence import format_frames

SPEC = "jobtemplate-2023-09"


def job_template(paths: dict[str, str], frames: list[int], chunk: int, options: list[str], name: str | None = None) -> dict:
    """The job as a mapping (written as YAML). `paths`: Model, Shot and Output, each relative to the template's
    folder where it lies inside it (their defaults; OpenJD joins them to that folder) or absolute (no default:
    given at submission, see `write_job`); `frames` the shot's frame numbers, `chunk` frames per task,
    `options` stylize's options for every task, already checked. Chunks are runs of consecutive frames where
    the frames are one run (OpenJD's CONTIGUOUS: `1001-1010`), else any `chunk` of them (`1001,1003,1005`)."""
    contiguous = frames == list(range(frames[0], frames[-1] + 1))
    step_args = ["stylize", "{{Param.Model}}", "{{Param.Shot}}", "--frames", "{{Param.Frames}}", "--only", "{{Task.Param.Frame}}",
                 "-o", "{{Param.Output}}", *options]
    default = lambda key: {} if Path(paths[key]).is_absolute() else {"default": paths[key]}  # noqa: E731
    return {
        "specificationVersion": SPEC,
        "extensions": ["TASK_CHUNKING"],
        "name": name or f"stylereel {Path(paths['Shot']).name} -> {Path(paths['Output']).name}",
        "description": "Renders a shot in a stylereel look, a chunk of frames per task (stylereel farm-job).",
        "parameterDefinitions": [
            {"name": "Model", "type": "PATH", "objectType": "DIRECTORY", "dataFlow": "IN", **default("Model"),
             "description": "the stylereel model folder (a run, its model/, or a built-in look's folder)"},
            {"name": "Shot", "type": "PATH", "dataFlow": "IN", **default("Shot"),
             "description": "the plates: a sequence pattern (plate.####.exr) or a movie"},
            {"name": "Frames", "type": "STRING", "default": format_frames(frames), "description": "the shot's frames (1001-1100)"},
            {"name": "Output", "type": "PATH", "dataFlow": "OUT", **default("Output"),
             "description": "the rendered frames: a sequence pattern (out/plate_look.####.exr)"},
            {"name": "ChunkSize", "type": "INT", "default": chunk, "minValue": 1, "description": "frames per task"},
            {"name": "Stylereel", "type": "STRING", "default": "stylereel",
             "description": "the stylereel command on the workers (a name on PATH or a full path)"},
        ],
        "steps": [{
            "name": "Stylize",
            "parameterSpace": {"taskParameterDefinitions": [{
                "name": "Frame", "type": "CHUNK[INT]", "range": "{{Param.Frames}}",
                "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}", "rangeConstraint": "CONTIGUOUS" if contiguous else "NONCONTIGUOUS"},
            }]},
            "script": {"actions": {"onRun": {"command": "{{Param.Stylereel}}", "args": step_args}}},
        }],
    }


def params_path(job: str | Path) -> Path:
    """Where `write_job` puts the parameter values beside JOB: job.yaml -> job.params.yaml."""
    job = Path(job)
    return job.with_name(f"{job.stem}.params.yaml")


def write_job(path: str | Path, template: dict, paths: dict[str, str]) -> tuple[Path, Path]:
    """The template as YAML at `path` and every path parameter's value, absolute, in `params_path(path)`
    (`openjd run JOB -p file://PARAMS`): OpenJD refuses a default outside the template's folder. Both
    written whole; the template checked by OpenJD's own model where it is installed."""
    try:
        from openjd.model import decode_job_template
    except ImportError:
        pass  # writing needs no OpenJD; `pip install 'stylereel[scale]'` checks it too
    else:
        decode_job_template(template=template, supported_extensions=["TASK_CHUNKING"])
    atomic_write_text(Path(path), yaml.safe_dump(template, sort_keys=False, width=1000))
    values = {key: str((Path(path).resolve().parent / p).resolve()) for key, p in paths.items()}
    atomic_write_text(params_path(path), yaml.safe_dump(values, sort_keys=False, width=1000))
    return Path(path), params_path(path)
