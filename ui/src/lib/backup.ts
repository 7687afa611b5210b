// Settings → Backup: the commands to restore a backup and to take backups on a schedule, for the
// data dir this Faurya runs with (docs: `faurya backup PATH`, `faurya restore PATH`).

/** The download: a consistent snapshot of the live database (admin cookie, so a plain link). */
export const BACKUP_URL = '/api/backup';

/** What the downloaded file is called: `faurya-backup-YYYY-MM-DD-HHMMSS.db`. */
export const BACKUP_NAME_PATTERN = 'faurya-backup-YYYY-MM-DD-HHMMSS.db';

/** The OS keychain entry that holds the master key. */
export const KEYCHAIN_ENTRY = 'faurya';

/** The master key file in the data dir (when the keychain is not used). */
export function masterKeyFile(dataDir: string): string {
  const sep = dataDir.includes('\\') && !dataDir.includes('/') ? '\\' : '/';
  return dataDir.replace(/[\\/]+$/, '') + sep + 'master.key';
}

/**
 * A path as one shell word: as is when it is plain, else in double quotes (which sh, zsh,
 * PowerShell and cmd all read), with what sh would expand inside them escaped.
 */
export function shellWord(path: string): string {
  if (/^[\w@%+=:,./-]+$/.test(path)) return path;
  return '"' + path.replace(/["$`]/g, (m) => '\\' + m) + '"';
}

const dataDirFlag = (dataDir: string | null | undefined) => (dataDir ? ` --data-dir ${shellWord(dataDir)}` : '');

/** Restore (Faurya stopped): PATH is the backup file. */
export function restoreCommand(dataDir?: string | null): string {
  return `faurya restore PATH${dataDirFlag(dataDir)}`;
}

/** A backup now, while Faurya runs: PATH must not exist yet (a backup never overwrites). */
export function backupCommand(dataDir?: string | null): string {
  return `faurya backup PATH${dataDirFlag(dataDir)}`;
}

/**
 * A crontab line: every night at 03:00, a new dated file (a backup never overwrites one). `%`
 * is special in crontab, hence `\%`.
 */
export function cronLine(dataDir?: string | null): string {
  return `0 3 * * * faurya backup "$HOME/faurya-backups/faurya-$(date +\\%Y-\\%m-\\%d).db"${dataDirFlag(dataDir)}`;
}
