"""The printable incident report: a PDF (reportlab) with the incident, its timeline and every image it holds.

reportlab is pure Python with wheels for every platform and needs no system libraries (WeasyPrint would
need Pango and its fonts on every control-room machine); its built-in Helvetica covers Spanish (Latin-1).
Blocking: call in the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from io import BytesIO
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

__all__ = ["IMAGE_SUFFIXES", "build_report"]

IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png")
_MAX_IMAGE_W: Final = 16.0  # cm
_MAX_IMAGE_H: Final = 9.0


def _image(path: Path) -> Any:
    """A flowable of the image scaled to fit the page, or None when it cannot be read."""
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    try:
        width, height = ImageReader(str(path)).getSize()
    except Exception:  # a broken image file must not stop the report
        return None
    scale = min(_MAX_IMAGE_W * cm / width, _MAX_IMAGE_H * cm / height, 1.0)
    return Image(str(path), width=width * scale, height=height * scale)


def _still(jpeg: bytes) -> Any:
    """A flowable of a clip's still frame (JPEG bytes), or None when it cannot be read."""
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    try:
        width, height = ImageReader(BytesIO(jpeg)).getSize()
    except Exception:  # a broken frame must not stop the report
        return None
    scale = min(_MAX_IMAGE_W * cm / width, _MAX_IMAGE_H * cm / height, 1.0)
    return Image(BytesIO(jpeg), width=width * scale, height=height * scale)


def _clip_story(clips: Mapping[int, Any], when: Callable[[Any], str], _: Callable[[str], str], styles: Any
                ) -> list[Any]:
    """The video clips' section: per clip its camera, range, still frame and the segments' sha256."""
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, Spacer

    body, small = styles["BodyText"], styles["Italic"]
    story: list[Any] = [Spacer(1, 0.5 * cm), Paragraph(escape(_("Video clips")), styles["Heading2"])]
    for clip in clips.values():
        span = f"{when(clip.start)} \N{EN DASH} {when(clip.end)}"
        story.append(Paragraph(escape(f"{_('Camera')}: {clip.camera_name} · {span}"), body))
        still = _still(clip.still_jpeg) if clip.still_jpeg else None
        story.append(still if still is not None else Paragraph(escape(_("(still frame not available)")), small))
        story.append(Paragraph(escape(f"{_('Recorded segments (sha256)')}: {len(clip.sha256)}"), small))
        story += [Paragraph(escape(digest), small) for digest in clip.sha256]
        story.append(Spacer(1, 0.3 * cm))
    return story


def build_report(incident: Mapping[str, Any], config_dir: Path, *, when: Callable[[Any], str],
                 labels: Mapping[str, str], site: str, generated_by: str | None,
                 clips: Mapping[int, Any] | None = None) -> bytes:
    """The PDF of `incident` (with its `timeline`); image paths are relative to `config_dir`; `clips` (item id ->
    integrations.incident.clips.ClipEvidence) adds the video clips' section.

    `when` formats a timestamp in the site's time zone; `labels` maps English labels to the reader's
    language (identity when it has none).
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    def _(text: str) -> str:
        return labels.get(text, text)

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Italic"]
    story: list[Any] = [Paragraph(escape(f"{_('Incident report')}: {incident['title']}"), styles["Title"])]
    facts = [
        (_("Incident"), incident["incident_id"]), (_("Status"), _(incident["status"])),
        (_("Owner"), incident.get("owner") or "—"), (_("Centre"), incident.get("centre") or "—"),
        (_("Opened"), when(incident["created_ts"])), (_("Last change"), when(incident["updated_ts"])),
        (_("Shared with other centres"), _("yes") if incident.get("shared") else _("no")),
    ]
    table = Table([[Paragraph(escape(k), body), Paragraph(escape(str(v)), body)] for k, v in facts],
                  colWidths=[5 * cm, 11 * cm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)]))
    story += [table, Spacer(1, 0.5 * cm), Paragraph(escape(_("Timeline")), styles["Heading2"])]
    rows = [[Paragraph(escape(_(h)), body) for h in ("Time", "What", "Details", "By")]]
    for item in incident["timeline"]:
        rows.append([Paragraph(escape(when(item["ts"])), body), Paragraph(escape(_(item["kind"])), body),
                     Paragraph(escape(item.get("text") or ""), body), Paragraph(escape(item.get("user_id") or ""),
                                                                                body)])
    timeline = Table(rows, colWidths=[3.6 * cm, 2.6 * cm, 7.4 * cm, 2.4 * cm], repeatRows=1)
    timeline.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                  ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]))
    story.append(timeline)
    if clips:
        story += _clip_story(clips, when, _, styles)
    images = [(item, f) for item in incident["timeline"] for f in item.get("files") or ()
              if f.lower().endswith(IMAGE_SUFFIXES)]
    if images:
        story += [Spacer(1, 0.5 * cm), Paragraph(escape(_("Images")), styles["Heading2"])]
    base = config_dir.resolve()
    for item, relative in images:
        path = (base / relative).resolve()
        flowable = _image(path) if base in path.parents else None
        caption = f"{when(item['ts'])} · {_(item['kind'])} · {item.get('text') or ''} · {Path(relative).name}"
        story += [Paragraph(escape(caption), small)]
        story += [flowable] if flowable is not None else [Paragraph(escape(_("(image not available)")), small)]
        story.append(Spacer(1, 0.3 * cm))
    footer = f"{site} · {_('Generated by')} {generated_by or '—'}"

    def _page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(2 * cm, 1.2 * cm, f"{footer} · {_('page')} {doc.page}")
        canvas.restoreState()

    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=str(incident["title"]), author=site,
                            leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm, bottomMargin=2 * cm)
    doc.build(story, onFirstPage=_page, onLaterPages=_page)
    return out.getvalue()
