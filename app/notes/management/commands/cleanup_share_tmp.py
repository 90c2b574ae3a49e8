"""Remove temp files a crashed upload or transcode left in SHARE_ROOT/tmp (never served, only wasted space).

Safe to run from any node at any time: only files older than --older-than-hours are removed, far longer
than any upload or transcode (the task's hard limit is about 3 h).
"""
import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Remove files older than N hours from SHARE_ROOT/tmp (left behind by crashed uploads or transcodes)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-hours", type=float, default=24.0, help="age threshold (default 24)")
        parser.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")

    def handle(self, *args, older_than_hours, dry_run, **options):
        if older_than_hours < 4:
            raise CommandError(
                f"--older-than-hours={older_than_hours:g} could remove files of uploads or transcodes still running; "
                "use 4 or more (the longest job is limited to about 3 h)."
            )
        directory = settings.SHARE_TMP_DIR
        if not os.path.isdir(directory):
            self.stdout.write(f"{directory} does not exist: nothing to do")
            return
        cutoff = time.time() - older_than_hours * 3600
        removed = 0
        for entry in os.scandir(directory):
            if not entry.is_file(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            if not dry_run:
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue  # another node removed it first
            removed += 1
            self.stdout.write(f"{'would remove' if dry_run else 'removed'} {entry.path}")
        self.stdout.write(f"{'would remove' if dry_run else 'removed'} {removed} file(s) older than {older_than_hours:g} h")
