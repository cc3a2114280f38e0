ALTER TABLE "tasks" DROP COLUMN "description";--> statement-breakpoint
ALTER TABLE "tasks" DROP COLUMN "instructions";