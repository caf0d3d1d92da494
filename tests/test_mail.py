"""The nightly summary mails, received by a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from perechen.config import Config, MailConfig
from perechen.mail import OutgoingMail, send_all, split_addresses, valid_address
from perechen.nightly import run_nightly
from tests.servers.smtp import SMTPServer

pytestmark = pytest.mark.servers

TODAY = dt.date(2026, 11, 30)
PW_ENV = "PERECHEN_TEST_SMTP_PASSWORD"
HEAD_GENERAL = "Начальник отдела организационной и кадровой работы"
HEAD_SUPERVISION = "Начальник отдела регистрации и технического надзора"
DEPUTY = "Заместитель руководителя (директора) Службы"
KEEPER = "keeper@gtn.example.ru"
INFO_EMAIL = "info@gtn.example.ru"
HAS_RENDER = importlib.util.find_spec("perechen.renderers.check") is not None


def mail_cfg(server: SMTPServer, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "enabled": True, "host": server.host, "port": server.port, "user": server.user, "password_env": PW_ENV,
        "sender": "perechen@gtn.example.ru", "timeout": 10,
        "responsible": {HEAD_GENERAL: "general@gtn.example.ru",
                        # spelled differently from the workbook: matched after normalisation
                        "начальник  отдела регистрации и ТЕХНИЧЕСКОГО надзора": "supervision@gtn.example.ru"},
    }
    d.update(over)
    return d


def config(tmp_path: Path, workbook: Path, mail: dict[str, Any]) -> Config:
    cfg = Config.model_validate({"workbook": str(workbook), "output": str(tmp_path / "output"), "mail": mail})
    cfg.base_dir = tmp_path
    return cfg


def rows_with_findings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["changed_on"] = dt.date(2026, 11, 25)
    rows[0]["channel"] = "голубиная почта"  # error, row 2, HEAD_GENERAL
    rows[4]["accessibility"] = None  # warning, row 6, HEAD_GENERAL
    rows[6]["checked_by"] = rows[6]["responsible"]  # warning, row 8, HEAD_SUPERVISION
    rows[7]["accessibility"] = None  # warning, row 9, DEPUTY: no address configured
    return rows


@pytest.fixture
def password(smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PW_ENV, smtp.password)
    return smtp.password


def by_rcpt(server: SMTPServer) -> dict[str, Any]:
    return {m.envelope_to[0]: m for m in server.messages}


def test_what_arrives(tmp_path: Path, smtp: SMTPServer, password: str, make_workbook: Any,
                      good_rows: list[dict[str, Any]], good_info: dict[str, str]) -> None:
    wb = make_workbook(rows_with_findings(good_rows), dict(good_info, email=INFO_EMAIL))
    cfg = config(tmp_path, wb, mail_cfg(smtp, keeper=KEEPER))
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 1
    got = by_rcpt(smtp)
    assert set(got) == {KEEPER, "general@gtn.example.ru", "supervision@gtn.example.ru"}
    assert all(m.authenticated_as == smtp.user for m in smtp.messages)
    assert all(m.envelope_from == "perechen@gtn.example.ru" for m in smtp.messages)

    keeper = got[KEEPER]
    assert keeper.subject == "Перечень точек взаимодействия: ошибок 1, предупреждений 3 — проверка 30.11.2026"
    text = keeper.text
    assert "Итог: строк 8, ошибок 1, предупреждений 3." in text
    assert f"{HEAD_GENERAL}: ошибок 1, предупреждений 1" in text
    assert "голубиная почта" in text and "E2 [ТВ-01]" in text
    # Nothing published yet: the first placement (п. 5.2) has no 5.4 term (issue 11 item 3; a deadline of
    # 09.12.2026 was expected here before).
    assert "первое размещение утверждённого перечня" in text and "Срок размещения" not in text
    assert "Не отправлено ответственным" in text and DEPUTY in text  # no address for the deputy
    assert str(res.dashboard.resolve()) in text  # type: ignore[union-attr]
    assert keeper.message["To"] == KEEPER

    general = got["general@gtn.example.ru"]
    assert general.subject.startswith("Перечень точек взаимодействия: замечания по вашим строкам (1 ош., 1 пред.)")
    assert HEAD_GENERAL in general.text and "E2 [ТВ-01]" in general.text and "M6 [ТВ-05]" in general.text
    assert "Q8" not in general.text  # someone else's row
    sup = got["supervision@gtn.example.ru"]
    assert "Q8 [ТВ-07]" in sup.text and "E2" not in sup.text

    summary = json.loads((res.run_dir / "nightly.json").read_text("utf-8"))  # type: ignore[operator]
    assert [r["ok"] for r in summary["mail"]["results"]] == [True, True, True]
    assert summary["mail"]["missing"] == [DEPUTY]
    if HAS_RENDER:
        xlsx = res.run_dir / summary["files"]["xlsx"]  # type: ignore[operator]
        for m in smtp.messages:
            (name, ctype, data), = m.attachments
            assert name == xlsx.name and ctype.endswith("spreadsheetml.sheet") and data == xlsx.read_bytes()
    # the password appears nowhere
    for p in [*cfg.output_dir.rglob("*.json"), *cfg.output_dir.rglob("*.log"), *cfg.output_dir.rglob("*.html")]:
        assert password not in p.read_text("utf-8", "replace")


def test_keeper_from_info_sheet_when_not_configured(tmp_path: Path, smtp: SMTPServer, password: str,
                                                    make_workbook: Any, good_rows: list[dict[str, Any]],
                                                    good_info: dict[str, str]) -> None:
    for r in good_rows:
        r["changed_on"] = dt.date(2026, 11, 25)
    wb = make_workbook(good_rows, dict(good_info, email=INFO_EMAIL))
    res = run_nightly(config(tmp_path, wb, mail_cfg(smtp)), today=TODAY)
    assert res.exit_code == 0
    (m,) = smtp.messages  # no findings: only the keeper
    assert m.envelope_to == [INFO_EMAIL]
    assert m.subject == "Перечень точек взаимодействия: ошибок 0, предупреждений 0 — проверка 30.11.2026"
    # No published version yet: the first placement (п. 5.2), no 5.4 term (issue 11 item 3).
    assert "первое размещение утверждённого перечня на официальном сайте (п. 5.2), точек взаимодействия: 8" in m.text


def test_unreadable_workbook_mail_says_so(tmp_path: Path, smtp: SMTPServer, password: str) -> None:
    wb = tmp_path / "perechen.xlsx"
    wb.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)  # an OLE file, not .xlsx
    res = run_nightly(config(tmp_path, wb, mail_cfg(smtp, keeper=KEEPER)), today=TODAY)
    assert res.exit_code == 2
    (m,) = smtp.messages
    assert m.envelope_to == [KEEPER]
    assert m.subject == "Перечень точек взаимодействия: книгу не удалось прочитать — проверка 30.11.2026"
    assert "КНИГУ НЕ УДАЛОСЬ ПРОЧИТАТЬ" in m.text and str(wb) in m.text
    assert res.summary.file_error.message in m.text
    assert not m.attachments


def test_unreadable_workbook_mails_the_last_known_keeper(tmp_path: Path, smtp: SMTPServer, password: str,
                                                         make_workbook: Any, good_rows: list[dict[str, Any]],
                                                         good_info: dict[str, str]) -> None:
    wb = make_workbook(good_rows, dict(good_info, email=INFO_EMAIL))
    cfg = config(tmp_path, wb, mail_cfg(smtp))
    run_nightly(cfg, today=TODAY, now=dt.datetime(2026, 11, 29, 1, 0))
    smtp.clear()
    wb.write_bytes(b"")
    res = run_nightly(cfg, today=TODAY, now=dt.datetime(2026, 11, 30, 1, 0))
    assert res.exit_code == 2
    (m,) = smtp.messages
    assert m.envelope_to == [INFO_EMAIL] and "не удалось прочитать" in m.subject


def test_smtp_down_run_completes_and_says_so(tmp_path: Path, smtp: SMTPServer, password: str, make_workbook: Any,
                                             good_rows: list[dict[str, Any]]) -> None:
    smtp.stop()
    for r in good_rows:
        r["changed_on"] = dt.date(2026, 11, 25)
    cfg = config(tmp_path, make_workbook(good_rows), mail_cfg(smtp, keeper=KEEPER))
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 0  # the register is fine; the mail failure is reported, not hidden
    mail = res.summary.mail
    assert mail.results and not any(r.ok for r in mail.results)
    assert f"Почтовый сервер 127.0.0.1:{smtp.port} не отвечает" in mail.text
    assert any(ln.startswith("Письма: отправлено 0 из 1; НЕ отправлено: 1") for ln in res.lines)
    log = (cfg.output_dir / "logs" / "nightly.log").read_text("utf-8")
    assert "Письма не отправлены" in log and "не отвечает" in log
    index = (cfg.output_dir / "reports" / "index.html").read_text("utf-8")
    assert "не отправлено: 1" in index
    page = (res.run_dir / "summary.html").read_text("utf-8")  # type: ignore[operator]
    assert "не отвечает" in page
    assert (cfg.output_dir / "reports" / "history.jsonl").exists()


def test_wrong_password_and_missing_env(tmp_path: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture) -> None:
    mail = OutgoingMail("keeper", [KEEPER], "Тема", "Текст")
    cfg = MailConfig(**mail_cfg(smtp))
    monkeypatch.delenv(PW_ENV, raising=False)
    (r,) = send_all(cfg, [mail])
    assert not r.ok and r.error == f"Не задана переменная окружения {PW_ENV} с паролем почтового ящика {smtp.user}."
    monkeypatch.setenv(PW_ENV, "wrong-Secret-123")
    with caplog.at_level(logging.INFO, logger="perechen"):
        (r,) = send_all(cfg, [mail])
    assert not r.ok and "отклонил имя пользователя или пароль (код 535)" in (r.error or "")
    assert "wrong-Secret-123" not in caplog.text and "wrong-Secret-123" not in (r.error or "")
    assert smtp.failed_logins >= 1 and not smtp.messages  # smtplib tries PLAIN, then LOGIN


def test_starttls_verifies_the_certificate(smtp_starttls: SMTPServer, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setenv(PW_ENV, smtp_starttls.password)
    xlsx = tmp_path / "перечень-с-пометками.xlsx"
    xlsx.write_bytes(b"PK\x03\x04 fake workbook bytes")
    mail = OutgoingMail("keeper", [KEEPER], "Проверка перечня", "Русский текст письма.", [xlsx])
    base = mail_cfg(smtp_starttls, security="starttls")
    (r,) = send_all(MailConfig(**base), [mail])  # self-signed certificate, not trusted: refused
    assert not r.ok and "не прошёл проверку" in (r.error or "") and not smtp_starttls.messages
    (r,) = send_all(MailConfig(**base, cafile=str(smtp_starttls.cafile)), [mail])
    assert r.ok, r.error
    (m,) = smtp_starttls.messages
    assert m.tls and m.authenticated_as == smtp_starttls.user
    assert m.subject == "Проверка перечня" and m.text.strip() == "Русский текст письма."
    (name, ctype, data), = m.attachments
    assert name == xlsx.name and ctype.endswith("spreadsheetml.sheet") and data == xlsx.read_bytes()


def test_implicit_tls(smtps: SMTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PW_ENV, smtps.password)
    cfg = MailConfig(**mail_cfg(smtps, security="tls", cafile=str(smtps.cafile)))
    (r,) = send_all(cfg, [OutgoingMail("keeper", [KEEPER], "Тема", "Текст")])
    assert r.ok, r.error
    assert smtps.messages[0].tls


def test_large_attachment_is_not_sent(tmp_path: Path) -> None:
    from perechen.mail import attachment_for

    big = tmp_path / "big.xlsx"
    big.write_bytes(b"0" * 2048)
    path, note = attachment_for(MailConfig(max_attachment_mb=0.001), big)
    assert path is None and note and str(big) in note
    assert attachment_for(MailConfig(), big) == (big, None)
    assert attachment_for(MailConfig(attach_workbook=False), big) == (None, None)


def test_addresses() -> None:
    assert valid_address("a.b@gtn.example.ru")
    assert not valid_address("Иванов И.И.") and not valid_address("a@b") and not valid_address("a b@c.ru")
    assert split_addresses("a@x.ru; b@x.ru,\nnot-an-address") == ["a@x.ru", "b@x.ru"]
