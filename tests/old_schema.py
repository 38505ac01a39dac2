"""SQL that turns a lab file made now back into what an older lab schema
wrote, for the tests that open an old lab and check its migration. A test
faking version N undoes every version after N; each later version adds its
own undo here."""

# Version 8: stream records in record_rows behind the `records` view, their
# counts per arrival instant, the streams' retention horizon.
UNDO_VERSION_8 = ("DROP VIEW v_records; DROP VIEW records; DROP TABLE record_instants; "
                  "ALTER TABLE record_rows RENAME TO records; "
                  "ALTER TABLE streams DROP COLUMN trimmed_ms; ")
