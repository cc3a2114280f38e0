ALTER TABLE "tasks" ALTER COLUMN "max_duration" SET DEFAULT 5;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "title" text;