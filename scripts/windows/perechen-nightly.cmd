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
rem Everything is relative to this file's folder, never to the current one (a task starts in System32).
for %%I in ("%~dp0..\..") do set "PERECHEN_HOME=%%~fI"
cd /d "%PERECHEN_HOME%" || exit /b 2
set "PYTHONUTF8=1"
set "PYTHONIOENCODING=utf-8"
if not exist "%PERECHEN_HOME%\output\logs" mkdir "%PERECHEN_HOME%\output\logs"
set "LOG=%PERECHEN_HOME%\output\logs\scheduler.log"
set "CONFIG_ARGS="
if exist "%PERECHEN_HOME%\perechen.toml" set CONFIG_ARGS=--config "%PERECHEN_HOME%\perechen.toml"
set "PY=%PERECHEN_HOME%\.venv\Scripts\python.exe"
if not exist "%PY%" (
  echo perechen: не найден Python %PY% — создайте .venv в %PERECHEN_HOME% ^(см. README^) >> "%LOG%"
  exit /b 2
)
echo ==== %DATE% %TIME% >> "%LOG%"
"%PY%" -m perechen nightly %CONFIG_ARGS% %* >> "%LOG%" 2>&1
exit /b %ERRORLEVEL%
