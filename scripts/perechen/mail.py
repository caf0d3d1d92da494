"""The nightly summary e-mails: composed in Russian, sent through the SMTP server of perechen.toml [mail].

* The keeper of the register (``mail.keeper``, else «Электронная почта» of the «Сведения» sheet) gets the
  whole summary: counts, the publication deadline, what was published, findings per responsible person.
* Each responsible person with findings on their own rows gets those findings (addresses from
  ``[mail.responsible]``: «Ответственный» as written in the workbook → e-mail).
* The annotated workbook is attached when the check produced it (and it is not too large).

The password comes only from the environment variable named by ``mail.password_env``; it is never
logged, printed or put into an error message. STARTTLS (``security = "starttls"``) or TLS from the first
byte (``security = "tls"``) verify the server's certificate against the system trust store plus
``mail.cafile`` when given; there is no option to switch verification off.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import smtplib
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any

from .config import MailConfig
from .diff_text import awaiting_act_text
from .errors import describe
from .models import CodedError
from .summary import DiffPart, NightlySummary
from .text import ru_date_text, value_key, work_days

log = logging.getLogger("perechen.mail")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_LISTED = 60  # findings listed in one mail; the rest are counted and left to the report


@dataclass
class OutgoingMail:
    purpose: str  # "keeper" | "responsible"
    to: list[str]
    subject: str
    text: str
    attachments: list[Path] = field(default_factory=list)
    person: str | None = None  # the «Ответственный» value for purpose == "responsible"


@dataclass
class MailResult:
    purpose: str
    to: list[str]
    ok: bool
    error: str | None = None
    person: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "to": self.to, "ok": self.ok, "error": self.error, "person": self.person}


# --------------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------------

def valid_address(addr: str | None) -> bool:
    if not addr:
        return False
    a = addr.strip()
    if any(c.isspace() for c in a) or a.count("@") != 1 or any(c in a for c in "<>,;\"'"):
        return False
    local, domain = a.split("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not domain.endswith(".")


def split_addresses(value: str | None) -> list[str]:
    """'a@x.ru; b@x.ru' or 'a@x.ru, b@x.ru' -> the valid addresses."""
    if not value:
        return []
    parts = [p.strip() for p in value.replace(";", ",").replace("\n", ",").split(",")]
    return [p for p in parts if valid_address(p)]


def responsible_address(cfg: MailConfig, person: str) -> list[str]:
    """Addresses of a responsible person from ``[mail.responsible]`` (names compared after normalisation)."""
    key = value_key(person)
    for name, addr in cfg.responsible.items():
        if value_key(name) == key:
            return split_addresses(addr)
    return []


# --------------------------------------------------------------------------------------------------
# Composing
# --------------------------------------------------------------------------------------------------

def _d(s: str | None) -> str:
    """YYYY-MM-DD -> DD.MM.YYYY (anything else unchanged)."""
    return ru_date_text(s)


def _finding_line(f: dict[str, Any]) -> str:
    where = f.get("cell") or (f"строка {f['row']}" if f.get("row") else "книга")
    code = f.get("row_code")
    ctx = f" [{code}]" if code else ""
    clause = f" (п. {f['clause']})" if f.get("clause") and f"п. {f['clause']}" not in f.get("message", "") else ""
    sev = {"error": "ошибка", "warning": "предупреждение"}.get(f.get("severity", ""), "справочно")
    return f"  • {where}{ctx} — {sev}: {f.get('message', '')}{clause}"


def deadline_lines(diff: DiffPart | None) -> list[str]:
    if diff is None:
        return []
    n = diff.pending_changes
    if not n:
        return ["Изменений, ожидающих размещения на официальном сайте, нет."]
    if diff.first_placement:
        return [f"Опубликованной версии нет: первое размещение утверждённого перечня на официальном сайте "
                f"(п. 5.2), точек взаимодействия: {sum(1 for c in diff.changes_list if c.kind != 'info')}. "
                "Срок п. 5.4 к первому размещению не применяется."]
    earliest = f" (самое раннее изменение {_d(diff.earliest_change)})" if diff.earliest_change else ""
    lines = [f"Изменений, ожидающих размещения на официальном сайте: {n}{earliest}."]
    if diff.deadline:
        if diff.overdue:
            k = diff.overdue_working_days or 0
            lines.append(f"Срок размещения на официальном сайте (п. 5.4) — {_d(diff.deadline)}: ПРОСРОЧЕНО на "
                         f"{work_days(k)}.")
        else:
            k = diff.working_days_left or 0
            lines.append(f"Срок размещения на официальном сайте (п. 5.4) — {_d(diff.deadline)}, осталось "
                         f"{work_days(k)}.")
        if diff.waiting_for_act:
            some = awaiting_act_text(diff.waiting_for_act, of=len({c.code for c in diff.changes_list}))
            lines.append(f"{some[:1].upper()}{some[1:]}.")
    elif diff.waiting_for_act:
        lines.append(f"Изменения ждут приказа: {awaiting_act_text(diff.waiting_for_act, of=None)}.")
    elif any(c.kind == "info" for c in diff.changes_list):
        lines.append("Изменились только сведения на листе «Сведения» — это не случай п. 5.3, срок п. 5.4 по "
                     "ним не считается; разместите перечень повторно.")
    return lines


def subject_for(summary: NightlySummary) -> str:
    day = _d(summary.today)
    if summary.file_error:
        what = str(summary.failure_title or "ночная проверка не выполнена").lower()
        return f"Перечень точек взаимодействия: {what} — проверка {day}"
    chk = summary.check
    parts = [f"ошибок {chk.errors if chk else 0}", f"предупреждений {chk.warnings if chk else 0}"]
    diff = summary.diff
    if diff is not None and diff.overdue and diff.pending_changes:
        parts.append("срок размещения ПРОШЁЛ")
    pub = summary.publish
    if pub is not None and pub.ok:
        parts.append("опубликовано")
    elif pub is not None and pub.attempted:
        parts.append("публикация НЕ выполнена")
    return f"Перечень точек взаимодействия: {', '.join(parts)} — проверка {day}"


def compose_keeper(summary: NightlySummary, findings: list[dict[str, Any]], *, to: list[str],
                   attachment: Path | None, missing: Iterable[str] = (), dashboard: Path | None = None,
                   attachment_note: str | None = None) -> OutgoingMail:
    lines: list[str] = ["Здравствуйте!", "",
                        f"Ночная проверка перечня точек взаимодействия с клиентом, {summary.started_text}.",
                        f"Книга: {summary.workbook}", ""]
    fe = summary.file_error
    if fe:
        title = str(summary.failure_title or "Запуск не выполнен").upper()
        lines += [f"{title}. Проверка, сравнение и публикация не выполнялись.", fe.message, ""]
        if summary.lock_owner:
            lines += [f"Книга открыта пользователем: {summary.lock_owner}.", ""]
    else:
        chk = summary.check
        lines.append(f"Итог: строк {chk.rows if chk else 0}, ошибок {chk.errors if chk else 0}, "
                     f"предупреждений {chk.warnings if chk else 0}.")
        if summary.lock_owner:
            lines.append(f"Во время проверки книга была открыта пользователем {summary.lock_owner}; "
                         "проверена последняя сохранённая версия.")
        lines += deadline_lines(summary.diff)
        pub = summary.publish
        if pub is not None and pub.text:
            lines.append(f"Публикация: {pub.text}")
        for err in summary.errors:
            if err.stage not in ("publish", "mail") and err.message:
                lines.append(f"Сбой: {err.message}")
        lines.append("")
        per = chk.by_responsible if chk else []
        if per:
            lines.append("Замечания по ответственным лицам:")
            for p in per:
                lines.append(f"  {p.responsible}: ошибок {p.errors}, предупреждений {p.warnings}")
            lines.append("")
        serious = [f for f in findings if f.get("severity") in ("error", "warning")]
        if serious:
            lines.append("Замечания:")
            lines += [_finding_line(f) for f in serious[:MAX_LISTED]]
            if len(serious) > MAX_LISTED:
                lines.append(f"  … и ещё {len(serious) - MAX_LISTED} — см. отчёт.")
            lines.append("")
        changes = summary.diff.changes_list if summary.diff else []
        if changes:
            lines.append("Изменения, ожидающие размещения на официальном сайте:")
            for c in changes[:MAX_LISTED]:
                lines.append(f"  • {c.code}: {c.title}")
            if len(changes) > MAX_LISTED:
                lines.append(f"  … и ещё {len(changes) - MAX_LISTED}.")
            lines.append("")
    missing = sorted(set(missing))
    if missing:
        lines += ["Не отправлено ответственным лицам — нет адреса в perechen.toml, раздел [mail.responsible]:",
                  *[f"  • {m}" for m in missing], ""]
    if summary.report_dir:
        lines.append(f"Отчёты этого запуска: {summary.report_dir}")
    if dashboard is not None:
        lines.append(f"Сводка по всем запускам: {dashboard}")
    if attachment is not None:
        lines.append(f"Во вложении — копия книги с пометками ({attachment.name}); исходная книга не изменялась.")
    elif attachment_note:
        lines.append(attachment_note)
    lines += ["", "Письмо отправлено программой perechen автоматически; отвечать на него не нужно."]
    return OutgoingMail(purpose="keeper", to=to, subject=subject_for(summary), text="\n".join(lines),
                        attachments=[attachment] if attachment else [])


def compose_responsible(summary: NightlySummary, person: str, findings: list[dict[str, Any]], *, to: list[str],
                        attachment: Path | None, attachment_note: str | None = None) -> OutgoingMail:
    errors = sum(1 for f in findings if f.get("severity") == "error")
    warnings = sum(1 for f in findings if f.get("severity") == "warning")
    day = _d(summary.today)
    lines = ["Здравствуйте!", "",
             f"Ночная проверка перечня точек взаимодействия с клиентом ({summary.started_text}) нашла "
             f"замечания в строках, где ответственным лицом указаны вы ({person}): ошибок {errors}, "
             f"предупреждений {warnings}.", f"Книга: {summary.workbook}", ""]
    lines += [_finding_line(f) for f in findings[:MAX_LISTED]]
    if len(findings) > MAX_LISTED:
        lines.append(f"  … и ещё {len(findings) - MAX_LISTED} — см. отчёт.")
    lines.append("")
    if errors:
        lines.append("Исправьте, пожалуйста, эти ячейки в книге перечня. Строка с ошибкой не включается в перечень "
                     "на официальном сайте, а ошибка во включённой строке задерживает размещение всего перечня "
                     "(п. 5.4 Порядка: в течение 10 рабочих дней со дня внесения изменений).")
    else:
        lines.append("Предупреждения не мешают размещению на официальном сайте, но их стоит устранить: "
                     "проверьте, пожалуйста, эти ячейки в книге перечня.")
    if attachment is not None:
        lines.append(f"Во вложении — копия книги с пометками ({attachment.name}): ячейки с замечаниями выделены "
                     "цветом, у каждой есть примечание. Исправлять нужно исходную книгу, а не эту копию.")
    elif attachment_note:
        lines.append(attachment_note)
    if summary.report_dir:
        lines.append(f"Полный отчёт: {summary.report_dir}")
    lines += ["", "Письмо отправлено программой perechen автоматически; отвечать на него не нужно."]
    subject = f"Перечень точек взаимодействия: замечания по вашим строкам ({errors} ош., {warnings} пред.) — {day}"
    return OutgoingMail(purpose="responsible", to=to, subject=subject, text="\n".join(lines),
                        attachments=[attachment] if attachment else [], person=person)


def build_message(cfg: MailConfig, mail: OutgoingMail) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    msg["From"] = formataddr(("perechen", cfg.sender))
    msg["To"] = ", ".join(mail.to)
    msg["Date"] = formatdate(localtime=True)
    domain = cfg.sender.rsplit("@", 1)[-1] if "@" in cfg.sender else None
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text, charset="utf-8")
    for path in mail.attachments:
        data = path.read_bytes()
        ctype = XLSX_TYPE if path.suffix.lower() == ".xlsx" else (mimetypes.guess_type(path.name)[0]
                                                                  or "application/octet-stream")
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def attachment_for(cfg: MailConfig, xlsx: Path | None) -> tuple[Path | None, str | None]:
    """(file to attach, or None and a note why not)."""
    if not cfg.attach_workbook:
        return None, None
    if xlsx is None or not xlsx.is_file():
        return None, "Копия книги с пометками в этот раз не сформирована."
    size = xlsx.stat().st_size
    if size > cfg.max_attachment_mb * 1024 * 1024:
        return None, (f"Копия книги с пометками слишком велика для письма ({size / 1024 / 1024:.1f} МБ): "
                      f"она лежит в {xlsx}.")
    return xlsx, None


# --------------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------------

class MailError(CodedError):
    """A Russian message about a failure to send (never contains the password)."""

    default_code = "mail_failed"


def _tls_context(cfg: MailConfig, base_dir: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if cfg.cafile:
        p = Path(cfg.cafile)
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        try:
            ctx.load_verify_locations(cafile=str(p))
        except (OSError, ssl.SSLError) as e:
            raise MailError(f"Не удалось загрузить сертификаты из mail.cafile ({p}): {e}.") from None
    return ctx


def _password(cfg: MailConfig) -> str | None:
    if not cfg.user:
        return None
    if not cfg.password_env:
        raise MailError("В perechen.toml указан mail.user, но не указан mail.password_env — имя переменной "
                        "окружения с паролем.")
    pw = os.environ.get(cfg.password_env)
    if not pw:
        raise MailError(f"Не задана переменная окружения {cfg.password_env} с паролем почтового ящика "
                        f"{cfg.user}.")
    return pw


def _explain(e: BaseException, cfg: MailConfig) -> str:
    where = f"{cfg.host}:{cfg.port}"
    if isinstance(e, MailError):
        return str(e)
    if isinstance(e, ssl.SSLCertVerificationError):
        return (f"Сертификат почтового сервера {where} не прошёл проверку ({e.verify_message}). Письма не "
                "отправлены; если сервер использует сертификат своего удостоверяющего центра, укажите его в "
                "mail.cafile.")
    if isinstance(e, ssl.SSLError):
        return f"Не удалось установить защищённое соединение с почтовым сервером {where}: {e.reason or e}."
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return f"Почтовый сервер {where} отклонил имя пользователя или пароль (код {e.smtp_code})."
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return f"Почтовый сервер {where} не поддерживает запрошенную возможность (STARTTLS или AUTH)."
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return f"Почтовый сервер {where} отклонил адреса получателей: {', '.join(e.recipients)}."
    if isinstance(e, smtplib.SMTPSenderRefused):
        return f"Почтовый сервер {where} отклонил адрес отправителя {cfg.sender} (код {e.smtp_code})."
    if isinstance(e, smtplib.SMTPResponseException):
        text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return f"Почтовый сервер {where} ответил ошибкой {e.smtp_code}: {text[:200]}."
    if isinstance(e, ConnectionRefusedError):
        return f"Почтовый сервер {where} не отвечает (соединение отклонено)."
    if isinstance(e, (socket.timeout, TimeoutError)):
        return f"Почтовый сервер {where} не ответил за {cfg.timeout:g} с."
    if isinstance(e, socket.gaierror):
        return f"Не найден почтовый сервер {cfg.host} (ошибка DNS)."
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return f"Почтовый сервер {where} разорвал соединение."
    if isinstance(e, OSError):
        return f"Не удалось связаться с почтовым сервером {where}: {describe(e)}."
    return f"Не удалось отправить письмо через {where}: {type(e).__name__}."


def _connect(cfg: MailConfig, base_dir: Path | None) -> smtplib.SMTP:
    security = cfg.security.lower()
    if security not in {"none", "starttls", "tls"}:
        raise MailError(f"Неизвестное значение mail.security = «{cfg.security}»: допустимо none, starttls или tls.")
    password = _password(cfg)
    if security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                              context=_tls_context(cfg, base_dir))
    else:
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    try:
        smtp.ehlo()
        if security == "starttls":
            smtp.starttls(context=_tls_context(cfg, base_dir))
            smtp.ehlo()
        if cfg.user and password is not None:
            smtp.login(cfg.user, password)
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        try:
            smtp.close()
        except OSError:
            pass


def send_all(cfg: MailConfig, mails: list[OutgoingMail], *, base_dir: Path | None = None) -> list[MailResult]:
    """Send every mail over one connection; a failure is recorded per mail and never raised."""
    results: list[MailResult] = []
    if not mails:
        return results
    try:
        smtp = _connect(cfg, base_dir)
    except Exception as e:
        msg = _explain(e, cfg)
        log.error("Письма не отправлены: %s", msg)
        return [MailResult(m.purpose, m.to, False, msg, m.person) for m in mails]
    try:
        for m in mails:
            try:
                smtp.send_message(build_message(cfg, m), from_addr=cfg.sender, to_addrs=m.to)
                log.info("Письмо отправлено (%s): %s", m.purpose, ", ".join(m.to))
                results.append(MailResult(m.purpose, m.to, True, None, m.person))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as e:
                msg = _explain(e, cfg)
                log.error("Письмо (%s) для %s не отправлено: %s", m.purpose, ", ".join(m.to), msg)
                results.append(MailResult(m.purpose, m.to, False, msg, m.person))
            except Exception as e:
                msg = _explain(e, cfg)
                log.error("Письмо (%s) для %s не отправлено: %s", m.purpose, ", ".join(m.to), msg)
                results.append(MailResult(m.purpose, m.to, False, msg, m.person))
                # The connection is probably gone: the rest fail with the same reason.
                for rest in mails[len(results):]:
                    results.append(MailResult(rest.purpose, rest.to, False, msg, rest.person))
                break
    finally:
        _close(smtp)
    return results
