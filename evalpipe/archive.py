"""The archive of a run: a BagIt bag whose payload is the run folder plus an RO-Crate description.

The RO-Crate (``data/ro-crate-metadata.json``, the payload being the crate's root, as the RO-Crate
specification describes bagged crates) records the run as a Process Run: its parameters, the
SHA-256 of every raw input (described, not included: the microdata about child victims stay with
their custodian), the software and the files it produced. Every date the bag and the crate would
take from the clock is pinned to the data drop's date (or SOURCE_DATE_EPOCH), and the tag manifests
are written in sorted order, so two archives of the same run folder are byte-identical.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import bagit

from . import __version__
from .drop import BANNER
from .errors import PipelineError
from .runfolder import fixed_timestamp, read_manifest

CHECKSUMS = ("sha256", "sha512")
CRATE_VERSION = "1.2"
PROCESS_RUN_PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
ENCODING_FORMATS = {".csv": "text/csv", ".json": "application/json", ".html": "text/html", ".pdf": "application/pdf",
                    ".png": "image/png", ".svg": "image/svg+xml", ".ipynb": "application/x-ipynb+json",
                    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ".typ": "text/x-typst", ".css": "text/css", ".js": "text/javascript", ".txt": "text/plain"}
# The PDF/A profile the annex declares (PRONOM identifier of PDF/A-2b).
PDF_A_2B = "https://www.nationalarchives.gov.uk/PRONOM/fmt/477"


class ArchiveError(PipelineError):
    """A bag that could not be written or does not validate."""


def _payload_files(root: Path) -> list[Path]:
    return sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def build_crate(payload: Path, manifest: dict, timestamp: dt.datetime):
    """An RO-Crate describing the run folder at ``payload``: inputs, parameters, outputs and software."""
    from rocrate.rocrate import ROCrate

    crate = ROCrate(version=CRATE_VERSION)
    drop = manifest["data_drop"]
    label = manifest["label"]
    root = crate.root_dataset
    root["name"] = f"evalpipe run {label} ({drop['data_origin']} data)"
    root["description"] = " ".join(filter(None, [
        f"Evaluation run {label}: logframe indicators recomputed from the data drop {drop['drop_id']} "
        f"({drop['drop_date']}), with the executed notebooks, the tables, the figures and the PDF/A annex.",
        BANNER.get(drop["data_origin"], {}).get("en", ""), drop.get("description", "")]))
    root["datePublished"] = timestamp.date().isoformat()
    root["identifier"] = label
    root["conformsTo"] = [{"@id": PROCESS_RUN_PROFILE}]
    crate.add_jsonld({"@id": PROCESS_RUN_PROFILE, "@type": "CreativeWork", "name": "Process Run Crate",
                      "version": "0.5"})

    outputs = []
    for path in _payload_files(payload):
        relative = path.relative_to(payload).as_posix()
        if relative == "ro-crate-metadata.json":
            continue
        properties = {"name": relative, "contentSize": str(path.stat().st_size)}
        if path.suffix.lower() in ENCODING_FORMATS:
            properties["encodingFormat"] = ENCODING_FORMATS[path.suffix.lower()]
        if path.suffix.lower() == ".pdf" and path.parent == payload:
            properties["conformsTo"] = {"@id": PDF_A_2B}
        outputs.append(crate.add_file(source=path, dest_path=relative, properties=properties))
    if any(p.suffix.lower() == ".pdf" and p.parent == payload for p in payload.iterdir()):
        crate.add_jsonld({"@id": PDF_A_2B, "@type": "WebPage", "name": "PDF/A-2b (PRONOM fmt/477)"})

    inputs = []
    for path, digest in sorted(manifest.get("inputs_sha256", {}).items()):
        inputs.append(crate.add_jsonld({
            "@id": f"#input:{quote(path)}", "@type": "File", "name": path, "sha256": digest,
            "description": "Raw input of the run, identified by its SHA-256; not included in the archive."}))

    parameters = []
    for name, value in sorted(manifest.get("parameters", {}).items()):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parameters.append(crate.add_jsonld({"@id": f"#param:{quote(name)}", "@type": "PropertyValue",
                                            "name": name, "value": shown}))

    requirements = []
    for name, version in sorted(manifest.get("software", {}).items()):
        if name == "evalpipe":
            continue
        requirements.append(crate.add_jsonld({"@id": f"#software:{quote(name)}", "@type": "SoftwareApplication",
                                              "name": name, "softwareVersion": str(version)}))
    evalpipe = crate.add_jsonld({
        "@id": "#software:evalpipe", "@type": "SoftwareApplication", "name": "evalpipe",
        "softwareVersion": str(manifest.get("software", {}).get("evalpipe", __version__)),
        "description": f"Reproducible evaluation pipeline (git commit {manifest.get('git_commit', 'unknown')})",
        "softwareRequirements": [{"@id": r.id} for r in requirements]})
    crate.add_action(evalpipe, identifier=f"#run:{quote(label)}", object=inputs + parameters, result=outputs,
                     properties={"@type": "CreateAction", "name": f"python pipeline.py run ({label})",
                                 "description": "The run that produced this folder; no time is recorded, so that "
                                                "two archives of the same run are identical."})
    return crate


def _sort_tag_manifests(bag_dir: Path) -> None:
    """bagit lists tag files in directory order; sorted lines make the tag manifests reproducible."""
    for path in sorted(bag_dir.glob("tagmanifest-*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("".join(f"{line}\n" for line in sorted(lines, key=lambda l: l.split(" ", 1)[1])),
                        encoding="utf-8")


def _pin_mtimes(root: Path, timestamp: dt.datetime) -> None:
    """Every file and folder dated by the data drop, so a tar or zip of the bag is reproducible too."""
    seconds = timestamp.timestamp()
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, (seconds, seconds), follow_symlinks=False)
    os.utime(root, (seconds, seconds))


def archive_run(run_dir: Path, out_dir: Path, timestamp: dt.datetime | None = None) -> Path:
    """Write ``<out_dir>/<run name>/`` as a BagIt bag of ``run_dir`` with an RO-Crate; returns the bag folder.

    The bag is built beside its final place and moved there only after full validation passes.
    """
    run_dir, out_dir = Path(run_dir).resolve(), Path(out_dir).resolve()
    manifest = read_manifest(run_dir)
    timestamp = timestamp or fixed_timestamp(manifest)
    try:
        out_dir.relative_to(run_dir)
    except ValueError:
        pass
    else:
        raise ArchiveError(f"archive folder {out_dir} is inside the run folder {run_dir}; choose another place")
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / run_dir.name
    staging = out_dir / f".{run_dir.name}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(run_dir, staging)
    build_crate(staging, manifest, timestamp).metadata.write(staging)

    drop = manifest["data_drop"]
    bag_info = {
        "Bagging-Date": timestamp.date().isoformat(),
        "External-Identifier": manifest["label"],
        "External-Description": f"evalpipe run {manifest['label']}: data drop {drop['drop_id']} "
                                f"({drop['data_origin']}, {drop['drop_date']}); "
                                "RO-Crate in data/ro-crate-metadata.json",
        "Bag-Group-Identifier": manifest.get("evaluation", ""),
        "Bag-Software-Agent": f"evalpipe {__version__} (bagit.py {bagit.VERSION})",
    }
    previous = Path.cwd()
    try:
        bagit.make_bag(str(staging), bag_info=bag_info, processes=1, checksums=list(CHECKSUMS))
    finally:
        os.chdir(previous)  # make_bag changes the working directory while it works
    _sort_tag_manifests(staging)
    _pin_mtimes(staging, timestamp)
    bag = bagit.Bag(str(staging))
    try:
        bag.validate(processes=1, fast=False)
    except bagit.BagValidationError as exc:
        raise ArchiveError(f"the bag of {run_dir.name} does not validate: {exc}") from None
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return final


def validate_bag(bag_dir: Path) -> None:
    """Full validation (every checksum recomputed, not --fast); raises ArchiveError with bagit's reason."""
    try:
        bagit.Bag(str(bag_dir)).validate(processes=1, fast=False)
    except (bagit.BagValidationError, bagit.BagError) as exc:
        raise ArchiveError(f"bag {Path(bag_dir).name} does not validate: {exc}") from None
