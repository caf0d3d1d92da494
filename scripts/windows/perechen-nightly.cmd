@echo off
rem perechen nightly for Windows Task Scheduler. Install and test: see README, «Ночной запуск по расписанию».
rem
rem Register the task (one line, in cmd.exe as an administrator; /RP * asks for the account's password):
rem   schtasks /Create /TN "perechen\nightly" /TR "\"C:\perechen\scripts\windows\perechen-nightly.cmd\"" /SC DAILY /ST 02:30 /RU "DOMAIN\svc-perechen" /RP * /RL LIMITED /F
rem Run it now:      schtasks /Run /TN "perechen\nightly"
rem Last result:     schtasks /Query /TN "perechen\nightly" /V /FO LIST
rem Remove it:       schtasks /Delete /TN "perechen\nightly" /F
rem
rem Exit code (Task Scheduler's «Last Run Result»): 0 all well; 1 rule errors or the publication deadline
rem passed; 2 the run could not be done. Details: output\logs\nightly.log, output\logs\scheduler.log and
rem output\reports\index.html. The SMTP password is read from the environment variable named by
rem mail.password_env in perechen.toml: set it for the task's account (setx NAME value, run as that account).
setlocal
chcp 65001 >nul
set "PERECHEN_HOME=%~dp0..\.."
cd /d "%PERECHEN_HOME%" || exit /b 2
set "PYTHONUTF8=1"
set "PYTHONIOENCODING=utf-8"
if not exist "output\logs" mkdir "output\logs"
set "CONFIG_ARGS="
if exist "perechen.toml" set "CONFIG_ARGS=--config perechen.toml"
if not exist ".venv\Scripts\perechen.exe" (
  echo perechen: не найдена программа .venv\Scripts\perechen.exe в %CD% >> "output\logs\scheduler.log"
  exit /b 2
)
echo ==== %DATE% %TIME% >> "output\logs\scheduler.log"
".venv\Scripts\perechen.exe" nightly %CONFIG_ARGS% %* >> "output\logs\scheduler.log" 2>&1
exit /b %ERRORLEVEL%
