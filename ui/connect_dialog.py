"""The connect dialog: saved profiles (console.profiles), secrets in the OS keyring only, "Test connection".

Opened with `open()` (never `exec()`: qasync can't nest loops). "Connect" signs in, saves the profile (and the secret
when asked to), remembers it as the last one, and hands the connected fleet over through `connected`.
When no keyring backend exists the user picks: don't save the secret, or (explicitly) an insecure file store.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.fleet import ApiError, Fleet, NotFoundError
from console.profiles import (
    AuthKind,
    BackendKind,
    InsecureFileSecrets,
    Profile,
    ProfileError,
    ProfileStore,
    SecretStore,
    SecretStoreUnavailable,
    keyring_status,
    read_saved_secret,
)
from ui.tasks import TaskManager, error_message
from ui.widgets.keyring_choice import KeyringChoice

__all__ = ["ConnectDialog"]

_NEW = "New profile"


def _message(exc: BaseException) -> str:
    if isinstance(exc, ProfileError | SecretStoreUnavailable):
        return str(exc)
    if isinstance(exc, NotFoundError):  # a 404 to the sign-in itself: the URL points at something else
        return (
            f"The server answered “not found” to the sign-in ({exc.message}). Check the URL: it should be "
            "the server's base address, e.g. https://thingsboard.example.com, without a path."
        )
    return error_message(exc)


class ConnectDialog(QDialog):
    """Pick or edit a profile and connect. `connected(fleet)` fires with a signed-in fleet; the caller owns it."""

    connected = Signal(object)  # Fleet
    tested = Signal(bool, str)  # ok, message (tests and the status line)

    def __init__(self, tasks: TaskManager, *, config_dir: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Connect to a server")
        self.connected_profile = ""  # the name of the profile the last successful connect used
        self.setModal(True)
        self.resize(760, 520)
        self._tasks = tasks
        self.store = ProfileStore(config_dir)
        self._config_dir = config_dir
        self._editing: str | None = None  # name of the saved profile being edited
        self._keyring_ok = True
        self._busy = False

        self.profiles = QListWidget(self)
        self.profiles.currentTextChanged.connect(self._on_profiles_current_changed)
        new_button = QPushButton("New", self)
        new_button.clicked.connect(self.new_profile)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.clicked.connect(self.delete_profile)
        left = QVBoxLayout()
        left.addWidget(QLabel("Saved profiles", self))
        left.addWidget(self.profiles, 1)
        row = QHBoxLayout()
        row.addWidget(new_button)
        row.addWidget(self.delete_button)
        left.addLayout(row)

        self.name = QLineEdit(self)
        self.kind = QComboBox(self)
        self.kind.addItem("ThingsBoard", BackendKind.THINGSBOARD)
        self.kind.addItem("PocketBase", BackendKind.POCKETBASE)
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("https://thingsboard.example.com")
        self.user = QLineEdit(self)
        self.user.setPlaceholderText("tenant@thingsboard.org")
        self.auth = QComboBox(self)
        self.auth.addItem("Password", AuthKind.PASSWORD)
        self.auth.addItem("API key", AuthKind.API_KEY)
        self.auth.currentIndexChanged.connect(self._on_auth_changed)
        self.secret = QLineEdit(self)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember in the OS keyring", self)
        self.remember.setChecked(True)
        self.ca_bundle = QLineEdit(self)
        self.ca_bundle.setPlaceholderText("system certificates")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(browse)
        self.verify_tls = QCheckBox("Verify the server's TLS certificate", self)
        self.verify_tls.setChecked(True)
        self.verify_tls.toggled.connect(self._on_verify_toggled)
        self.tls_warning = QLabel(
            "⚠ TLS verification is off: anyone on the network path can read and change this connection, "
            "including the password.",
            self,
        )
        self.tls_warning.setWordWrap(True)
        self.tls_warning.setStyleSheet("color: #b03a00; font-weight: bold;")
        self.tls_warning.setVisible(False)
        self.proxy = QLineEdit(self)
        self.proxy.setPlaceholderText("none (or http://proxy.example:3128)")

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Server", self.kind)
        form.addRow("URL", self.url)
        form.addRow("User", self.user)
        form.addRow("Sign in with", self.auth)
        self.secret_label = QLabel("Password", self)
        form.addRow(self.secret_label, self.secret)
        form.addRow("", self.remember)
        form.addRow("CA bundle", ca_row)
        form.addRow("", self.verify_tls)
        form.addRow("", self.tls_warning)
        form.addRow("Proxy", self.proxy)

        self.keyring_box = KeyringChoice(self)
        self.no_save, self.insecure = self.keyring_box.no_save, self.keyring_box.insecure

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test_connection)
        self.save_button = QPushButton("Save", self)
        self.save_button.clicked.connect(lambda: self.save_profile())
        self.connect_button = QPushButton("Connect", self)
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.connect_profile)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        buttons.addWidget(self.connect_button)

        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.keyring_box)
        right.addWidget(self.status)
        right.addStretch(1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 3)

        self.reload_profiles()
        last = self.store.last_used
        if last is not None:
            self.select_profile(last.name)
        elif self.profiles.count() == 0:
            self.new_profile()
        self._tasks.start(self._check_keyring(), "Checking the OS keyring")

    # --- profiles ---------------------------------------------------------------------------------------------

    def reload_profiles(self) -> None:
        self.profiles.blockSignals(True)
        self.profiles.clear()
        for profile in self.store.list():
            self.profiles.addItem(profile.name)
        self.profiles.blockSignals(False)

    def select_profile(self, name: str) -> bool:
        items = self.profiles.findItems(name, Qt.MatchFlag.MatchExactly)
        if not items:
            return False
        self.profiles.setCurrentItem(items[0])
        self._on_profiles_current_changed(name)
        return True

    def new_profile(self) -> None:
        self._editing = None
        self.profiles.clearSelection()
        self.profiles.setCurrentRow(-1)
        self._fill(Profile(name="", kind=BackendKind.THINGSBOARD, url=""))
        self.name.setFocus()

    def _on_profiles_current_changed(self, name: str) -> None:
        if not name:
            return
        try:
            profile = self.store.get(name)
        except ProfileError as exc:
            self.show_error(str(exc))
            return
        self._editing = name
        self._fill(profile)
        self._tasks.start(self._load_secret(profile), "Reading the saved secret")

    async def _load_secret(self, profile: Profile) -> None:
        secret, in_file = await read_saved_secret(profile, self._config_dir)
        if secret and self._editing == profile.name and not self.secret.text():
            self.secret.setText(secret)
            if in_file:
                self.insecure.setChecked(True)  # the choice made when it was saved, shown again

    def _fill(self, profile: Profile) -> None:
        self.name.setText(profile.name)
        self.kind.setCurrentIndex(max(0, self.kind.findData(profile.kind)))
        self.url.setText(profile.url)
        self.user.setText(profile.user)
        self.auth.setCurrentIndex(max(0, self.auth.findData(profile.auth)))
        self.secret.clear()
        self.ca_bundle.setText(profile.ca_bundle)
        self.verify_tls.setChecked(profile.verify_tls)
        self.proxy.setText(profile.proxy)
        self.show_status("")

    def profile(self) -> Profile:
        """The profile as the form shows it (validated: raises ProfileError with a readable reason)."""
        profile = Profile(
            name=self.name.text().strip(),
            kind=BackendKind(self.kind.currentData()),  # Qt hands the enum back as a plain str
            url=self.url.text().strip(),
            user=self.user.text().strip(),
            auth=AuthKind(self.auth.currentData()),
            ca_bundle=self.ca_bundle.text().strip(),
            verify_tls=self.verify_tls.isChecked(),
            proxy=self.proxy.text().strip(),
        )
        profile.validate()
        return profile

    def save_profile(self, *, store_secret: bool = True) -> Profile | None:
        """Save the form; the secret is saved separately (keyring) when a connection succeeds or on Save."""
        try:
            profile = self.profile()
            self.store.save(profile, previous_name=self._editing)
        except (ProfileError, OSError) as exc:
            self.show_error(_message(exc))
            return None
        self._editing = profile.name
        self.reload_profiles()
        self.select_profile_quietly(profile.name)
        self.show_status(f"Saved “{profile.name}”.")
        if store_secret and self.secret.text() and self._should_store_secret():
            self._tasks.start(self._store_secret(profile, self.secret.text()), "Saving the secret")
        return profile

    def select_profile_quietly(self, name: str) -> None:
        self.profiles.blockSignals(True)
        items = self.profiles.findItems(name, Qt.MatchFlag.MatchExactly)
        if items:
            self.profiles.setCurrentItem(items[0])
        self.profiles.blockSignals(False)

    def delete_profile(self) -> None:
        name = self._editing
        if not name:
            return
        try:
            profile = self.store.get(name)
            self.store.delete(name)
        except ProfileError as exc:
            self.show_error(str(exc))
            return
        self._tasks.start(self._secrets().delete(profile), "Forgetting the secret")
        self.reload_profiles()
        self.new_profile()
        self.show_status(f"Deleted “{name}”.")

    # --- secrets ----------------------------------------------------------------------------------------------

    async def _check_keyring(self) -> None:
        status = await keyring_status()
        self._keyring_ok = status.available
        self.remember.setVisible(status.available)
        if not status.available:
            self.keyring_box.show_reason(status.reason)

    def _secrets(self) -> SecretStore:
        if not self._keyring_ok and self.insecure.isChecked():
            return SecretStore(insecure_file=InsecureFileSecrets(self._config_dir))
        return SecretStore()

    def _should_store_secret(self) -> bool:
        if self._keyring_ok:
            return self.remember.isChecked()
        return self.insecure.isChecked()

    async def _store_secret(self, profile: Profile, secret: str) -> None:
        try:
            await self._secrets().set(profile, secret)
        except SecretStoreUnavailable as exc:
            self.show_error(f"The secret was not saved: {exc}")

    # --- test and connect -------------------------------------------------------------------------------------

    def _open(self) -> tuple[Profile, Fleet] | None:
        from console.fleet.open import open_fleet

        try:
            profile = self.profile()
            return profile, open_fleet(profile, self.secret.text())
        except (ProfileError, ApiError) as exc:
            self.show_error(_message(exc))
            return None

    def test_connection(self) -> None:
        opened = None if self._busy else self._open()
        if opened is None:
            return
        _profile, fleet = opened
        self._set_busy(True, "Testing the connection…")

        async def run() -> None:
            try:
                await fleet.connect()
                counts = await fleet.device_counts()
            except Exception as exc:
                self.show_error(_message(exc))
                self.tested.emit(False, _message(exc))
                return
            finally:
                self._set_busy(False)
                await fleet.close()
            text = f"Connection works: {fleet.title}, {counts.total:,} devices."
            self.show_status(text, ok=True)
            self.tested.emit(True, text)

        self._tasks.start(run(), "Testing the connection")

    def connect_profile(self) -> None:
        opened = None if self._busy else self._open()
        if opened is None:
            return
        profile, fleet = opened
        secret = self.secret.text()
        self._set_busy(True, f"Connecting to {profile.url}…")

        async def run() -> None:
            try:
                await fleet.connect()
            except Exception as exc:
                self._set_busy(False)
                self.show_error(_message(exc))
                await fleet.close()
                return
            try:
                saved = self.save_profile(store_secret=False)
                if saved is not None:
                    self.store.set_last_used(saved.name)
                    if self._should_store_secret():
                        await self._store_secret(saved, secret)
            except BaseException:
                await fleet.close()
                raise
            finally:
                self._set_busy(False)
            self.connected_profile = saved.name if saved is not None else ""
            self.connected.emit(fleet)
            self.accept()

        self._tasks.start(run(), "Connecting")

    # --- feedback ---------------------------------------------------------------------------------------------

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        for button in (self.test_button, self.connect_button, self.save_button):
            button.setEnabled(not busy)
        if text:
            self.show_status(text)

    def show_status(self, text: str, ok: bool = False) -> None:
        self.status.setStyleSheet("color: #1b7f3b;" if ok else "")
        self.status.setText(text)

    def show_error(self, message: str) -> None:
        self.status.setStyleSheet("color: #c0392b;")
        self.status.setText(message)

    def _on_auth_changed(self, _index: int) -> None:
        api_key = self.auth.currentData() == AuthKind.API_KEY
        self.secret_label.setText("API key" if api_key else "Password")

    def _on_verify_toggled(self, checked: bool) -> None:
        self.tls_warning.setVisible(not checked)

    def _on_browse_clicked(self) -> None:
        dialog = QFileDialog(self, "CA bundle (PEM)", "", "Certificates (*.pem *.crt *.cer);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.ca_bundle.setText)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
