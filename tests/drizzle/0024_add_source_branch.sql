ALTER TABLE "tasks" ADD COLUMN IF NOT EXISTS "source_branch" text;
