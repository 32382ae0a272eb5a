# Build the Windows installer in one command: PyInstaller one-folder app, then Inno Setup (iscc.exe on PATH,
# or ISCC set to its full path). Run from any folder:  powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1
# Needs the app installed in the Python on PATH: pip install -e '.[packaging]'. Artefacts land in packaging\out\.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$Py = if ($env:PYTHON) { $env:PYTHON } else { "python" }
$Out = "packaging\out"
$Version = & $Py -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])"
if ($LASTEXITCODE -ne 0) { throw "cannot read the version from pyproject.toml" }

Remove-Item -Recurse -Force "$Out\dist", "$Out\build" -ErrorAction SilentlyContinue
New-Item -ItemType Directory -Force $Out | Out-Null
& $Py packaging\make_icons.py "$Out\icons"
if ($LASTEXITCODE -ne 0) { throw "icon generation failed" }
$env:THINGSCOPE_ICONS = (Resolve-Path "$Out\icons").Path
$env:THINGSCOPE_VERSION = $Version
& $Py -m PyInstaller --noconfirm --log-level WARN --distpath "$Out\dist" --workpath "$Out\build" packaging\thingscope.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

$Iscc = if ($env:ISCC) { $env:ISCC } else { "iscc.exe" }
& $Iscc "/DAppVersion=$Version" "/DSourceDir=$((Resolve-Path "$Out\dist\thingscope").Path)" `
    "/DIconFile=$((Resolve-Path "$Out\icons\thingscope.ico").Path)" "/O$((Resolve-Path $Out).Path)" packaging\thingscope.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
$Size = (Get-ChildItem -Recurse "$Out\dist\thingscope" | Measure-Object -Property Length -Sum).Sum / 1MB
Write-Host ("built {0}\thingscope-{1}-windows-setup.exe; installed size {2:N0} MB" -f $Out, $Version, $Size)
