-- A revision may say where it came from: "AI: Fix (provider/model)", "Restored revision 3".
-- Plain saves leave it empty.
ALTER TABLE file_revisions ADD COLUMN note TEXT NOT NULL DEFAULT '';
