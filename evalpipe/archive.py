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
import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import bagit

from . import __version__
from .drop import DEFAULT_LICENSE, DEFAULT_PUBLISHER, banner_text
from .errors import PipelineError
from .runfolder import fixed_timestamp, read_manifest

CHECKSUMS = ("sha256", "sha512")
BAGIT_VERSION = "1.0"  # RFC 8493; bagit.py still writes 0.97, so bagit.txt and the tag manifests are rewritten
# Process Run Crate 0.5 is a profile of RO-Crate 1.1 (its profile descriptor says prof:isProfileOf
# <https://w3id.org/ro/crate/1.1>): the crate declares 1.1 so that both validate against one version.
CRATE_VERSION = "1.1"
PROCESS_RUN_PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
# The RO-Crate 1.1 context has no term for a file's SHA-256; the one the Workflow Run terms define is used.
EXTRA_TERMS = {"sha256": "https://w3id.org/ro/terms/workflow-run#sha256"}
# Licences a drop.yaml may name by SPDX identifier: the URL a licence entity takes as @id, and its name.
LICENSES = {
    "CC-BY-4.0": ("https://creativecommons.org/licenses/by/4.0/", "Creative Commons Attribution 4.0 International"),
    "CC0-1.0": ("https://creativecommons.org/publicdomain/zero/1.0/", "Creative Commons Zero v1.0 Universal"),
    "CC-BY-SA-4.0": ("https://creativecommons.org/licenses/by-sa/4.0/",
                     "Creative Commons Attribution Share Alike 4.0 International"),
}
ENCODING_FORMATS = {".csv": "text/csv", ".json": "application/json", ".html": "text/html", ".pdf": "application/pdf",
                    ".png": "image/png", ".svg": "image/svg+xml", ".ipynb": "application/x-ipynb+json",
                    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ".typ": "text/x-typst", ".css": "text/css", ".js": "text/javascript", ".txt": "text/plain",
                    ".gif": "image/gif", ".ico": "image/vnd.microsoft.icon", ".otf": "font/otf",
                    ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".md": "text/markdown",
                    ".yaml": "application/yaml", ".yml": "application/yaml"}
# The PDF/A profile the annex declares (PRONOM identifier of PDF/A-2b).
PDF_A_2B = "https://www.nationalarchives.gov.uk/PRONOM/fmt/477"


class ArchiveError(PipelineError):
    """A bag that could not be written or does not validate."""


def _internal(relative: Path) -> bool:
    """Pipeline bookkeeping, not part of the published run: ``.cache/`` (stage keys), lock and other
    dotfiles, and the ``~$`` files Excel leaves beside an open workbook."""
    return any(part.startswith((".", "~$")) for part in relative.parts)


def _payload_files(root: Path) -> list[Path]:
    return sorted((p for p in root.rglob("*") if p.is_file() and not _internal(p.relative_to(root))),
                  key=lambda p: p.relative_to(root).as_posix())


def _license_entity(spdx: str) -> dict:
    url, name = LICENSES.get(spdx, (f"https://spdx.org/licenses/{quote(spdx)}.html", spdx))
    return {"@id": url, "@type": "CreativeWork", "name": name, "identifier": spdx}


def _party(key: str, name: str, url: str) -> dict:
    """An Organization of the drop's metadata (custodian or publisher); its URL is its @id when it has one."""
    entity = {"@id": url or f"#{key}", "@type": "Organization", "name": name}
    if url:
        entity["url"] = url
    return entity


def _evalpipe_url(manifest: dict) -> str:
    """Where evalpipe's source is: the Source (or Homepage) URL its package metadata declares; without one,
    a URN naming the git commit the run was made from."""
    from importlib import metadata

    try:
        urls = metadata.metadata("evalpipe").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    declared = dict(u.split(", ", 1) for u in urls if ", " in u)
    for label in ("Source", "Repository", "Homepage"):
        if declared.get(label):
            return declared[label]
    return f"urn:evalpipe:git:{manifest.get('git_commit') or 'unknown'}"


def _software_entity(name: str, version: str) -> dict:
    """A dependency as a SoftwareApplication: its PyPI release page as @id, the project page as url."""
    if name == "python":
        return {"@id": f"https://www.python.org/downloads/release/python-{version.replace('.', '')}/",
                "@type": "SoftwareApplication", "name": "Python", "url": "https://www.python.org/",
                "version": version}
    return {"@id": f"https://pypi.org/project/{quote(name)}/{quote(version)}/", "@type": "SoftwareApplication",
            "name": name, "url": f"https://pypi.org/project/{quote(name)}/", "version": version}


def build_crate(payload: Path, manifest: dict, timestamp: dt.datetime):
    """An RO-Crate 1.1 (Process Run Crate 0.5) describing the run folder at ``payload``: inputs, parameters,
    outputs and software, who made the data and who publishes the outputs, under which licence."""
    from rocrate.rocrate import ROCrate

    crate = ROCrate(version=CRATE_VERSION)
    crate.metadata.extra_terms.update(EXTRA_TERMS)
    drop = manifest["data_drop"]
    label = manifest["label"]
    root = crate.root_dataset
    root["name"] = f"evalpipe run {label} ({drop['data_origin']} data)"
    root["description"] = " ".join(filter(None, [
        f"Evaluation run {label}: logframe indicators recomputed from the data drop {drop['drop_id']} "
        f"({drop['drop_date']}), with the executed notebooks, the tables, the figures and the PDF/A annex.",
        banner_text(drop["data_origin"], "en"), drop.get("description", "")]))
    root["datePublished"] = timestamp.date().isoformat()
    root["identifier"] = label
    profile = crate.add_jsonld({"@id": PROCESS_RUN_PROFILE, "@type": "CreativeWork",
                                "name": "Process Run Crate", "version": "0.5"})
    root["conformsTo"] = {"@id": profile.id}  # one value, not a one-item list (RO-Crate 1.1 compaction)
    # Drops archived before these fields existed get the defaults of evalpipe.drop.
    licence = crate.add_jsonld(_license_entity(drop.get("license") or DEFAULT_LICENSE))
    root["license"] = {"@id": licence.id}
    custodian = drop.get("custodian") or f"Custodian of the data drop {drop['drop_id']}"
    author = crate.add_jsonld(_party("custodian", custodian, drop.get("custodian_url", "")))
    publisher = crate.add_jsonld(_party("publisher", drop.get("publisher") or DEFAULT_PUBLISHER,
                                        drop.get("publisher_url", "")))
    root["author"] = {"@id": author.id}
    root["publisher"] = {"@id": publisher.id}

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
        entity = {"@id": f"#input:{quote(path)}", "@type": "File", "name": path, "sha256": digest,
                  "description": "Raw input of the run, identified by its SHA-256; not included in the archive."}
        if Path(path).suffix.lower() in ENCODING_FORMATS:
            entity["encodingFormat"] = ENCODING_FORMATS[Path(path).suffix.lower()]
        inputs.append(crate.add_jsonld(entity))

    parameters = []
    for name, value in sorted(manifest.get("parameters", {}).items()):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parameters.append(crate.add_jsonld({"@id": f"#param:{quote(name)}", "@type": "PropertyValue",
                                            "name": name, "value": shown}))

    requirements = [crate.add_jsonld(_software_entity(name, str(version)))
                    for name, version in sorted(manifest.get("software", {}).items()) if name != "evalpipe"]
    evalpipe = crate.add_jsonld({
        "@id": "#software:evalpipe", "@type": "SoftwareApplication", "name": "evalpipe",
        "url": _evalpipe_url(manifest),
        "version": str(manifest.get("software", {}).get("evalpipe", __version__)),
        "description": f"Reproducible evaluation pipeline (git commit {manifest.get('git_commit', 'unknown')})",
        "softwareRequirements": [{"@id": r.id} for r in requirements]})
    action = crate.add_action(evalpipe, identifier=f"#run:{quote(label)}", object=inputs + parameters,
                              result=outputs,
                              properties={"@type": "CreateAction", "name": f"python pipeline.py run ({label})",
                                          "description": "The run that produced this folder. Its endTime is the "
                                                         "data drop's date (or SOURCE_DATE_EPOCH), not the clock, so "
                                                         "that two archives of the same run are identical.",
                                          "endTime": timestamp.isoformat(),
                                          "agent": {"@id": publisher.id}})
    root["mentions"] = {"@id": action.id}
    return crate


def _declare_bagit_1_0(bag_dir: Path) -> None:
    """Declare BagIt 1.0 (RFC 8493) in bagit.txt, then write the tag manifests anew, one line per tag file
    in sorted order (bagit.py lists them in directory order), so that they are reproducible too."""
    (bag_dir / "bagit.txt").write_bytes(
        f"BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n".encode("utf-8"))
    tag_files = sorted(p.name for p in bag_dir.iterdir()
                       if p.is_file() and p.suffix == ".txt" and not p.name.startswith("tagmanifest-"))
    for algorithm in CHECKSUMS:
        lines = [f"{hashlib.new(algorithm, (bag_dir / name).read_bytes()).hexdigest()}  {name}\n"
                 for name in tag_files]
        (bag_dir / f"tagmanifest-{algorithm}.txt").write_text("".join(lines), encoding="utf-8")


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
    # The published run only: the stage cache (.cache/), lock files and other dotfiles stay out of the bag.
    shutil.copytree(run_dir, staging, ignore=lambda folder, names: [n for n in names if _internal(Path(n))])
    build_crate(staging, manifest, timestamp).metadata.write(staging)

    drop = manifest["data_drop"]
    bag_info = {
        "Bagging-Date": timestamp.date().isoformat(),
        "External-Identifier": manifest["label"],
        "External-Description": f"evalpipe run {manifest['label']}: data drop {drop['drop_id']} "
                                f"({drop['data_origin']}, {drop['drop_date']}); "
                                "RO-Crate in data/ro-crate-metadata.json",
        "Bag-Group-Identifier": manifest.get("evaluation", ""),
        "Source-Organization": drop.get("publisher") or DEFAULT_PUBLISHER,
        "Bag-Software-Agent": f"evalpipe {__version__} (bagit.py {bagit.VERSION})",
    }
    previous = Path.cwd()
    try:
        bagit.make_bag(str(staging), bag_info=bag_info, processes=1, checksums=list(CHECKSUMS))
    finally:
        os.chdir(previous)  # make_bag changes the working directory while it works
    _declare_bagit_1_0(staging)
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
