import { describe, expect, it } from 'vitest';
import { backupCommand, cronLine, masterKeyFile, restoreCommand, shellWord } from './backup';

describe('backup commands', () => {
  it('restores into the data dir Faurya runs with', () => {
    expect(restoreCommand('/home/me/.local/share/faurya')).toBe(
      'faurya restore PATH --data-dir /home/me/.local/share/faurya',
    );
    expect(restoreCommand(null)).toBe('faurya restore PATH');
    expect(backupCommand('/data')).toBe('faurya backup PATH --data-dir /data');
  });

  it('quotes a data dir with spaces or shell characters', () => {
    expect(shellWord('/Users/me/Library/Application Support/faurya')).toBe(
      '"/Users/me/Library/Application Support/faurya"',
    );
    expect(shellWord('/tmp/a$b"c`d')).toBe('"/tmp/a\\$b\\"c\\`d"');
    expect(shellWord('C:\\Users\\me\\AppData\\Roaming\\faurya\\data')).toBe(
      '"C:\\Users\\me\\AppData\\Roaming\\faurya\\data"',
    );
  });

  it('writes a new dated file every night, with % escaped for crontab', () => {
    const line = cronLine('/data');
    expect(line).toBe(
      '0 3 * * * faurya backup "$HOME/faurya-backups/faurya-$(date +\\%Y-\\%m-\\%d).db" --data-dir /data',
    );
    expect(line).not.toMatch(/[^\\]%/);
  });

  it('names the master key file in the data dir', () => {
    expect(masterKeyFile('/home/me/.local/share/faurya')).toBe('/home/me/.local/share/faurya/master.key');
    expect(masterKeyFile('/data/')).toBe('/data/master.key');
    expect(masterKeyFile('C:\\Users\\me\\AppData\\Roaming\\faurya\\data')).toBe(
      'C:\\Users\\me\\AppData\\Roaming\\faurya\\data\\master.key',
    );
  });
});
