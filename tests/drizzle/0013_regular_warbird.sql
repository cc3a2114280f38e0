ALTER TABLE "tasks" ADD COLUMN "pr_url" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "pr_number" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "pr_status" text;