-- Lists print a case without re-reading its whole state: the clocks alone, and the case as a list shows it
-- (personal numbers masked). Filled by every projection write; `agent-console rebuild` fills older rows.
ALTER TABLE cases ADD COLUMN clocks TEXT;
ALTER TABLE cases ADD COLUMN doc TEXT;
