; Inno Setup script for Thingscope. Called by build_windows.ps1 with /DAppVersion, /DSourceDir and /DIconFile.
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "out\dist\thingscope"
#endif
#ifndef IconFile
  #define IconFile "out\icons\thingscope.ico"
#endif

[Setup]
AppId={{6C1F0E52-4E8B-4D0B-9B52-5F3A1C7E9D41}
AppName=Thingscope
AppVersion={#AppVersion}
AppPublisher=Thingscope developers
DefaultDirName={autopf}\Thingscope
DefaultGroupName=Thingscope
DisableProgramGroupPage=yes
PrivilegesRequiredOverridesAllowed=dialog
OutputBaseFilename=thingscope-{#AppVersion}-windows-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\thingscope.exe
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Thingscope"; Filename: "{app}\thingscope.exe"
Name: "{group}\Thingscope demo"; Filename: "{app}\thingscope.exe"; Parameters: "--demo"
Name: "{autodesktop}\Thingscope"; Filename: "{app}\thingscope.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\thingscope.exe"; Parameters: "--demo"; Description: "Start Thingscope with the demo fleet"; Flags: nowait postinstall skipifsilent
