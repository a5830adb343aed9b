-- CreateTable
CREATE TABLE "known_users" (
    "user_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "known_users_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "counter_events" (
    "event_id" TEXT NOT NULL,
    "applied_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "counter_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "counter_events_applied_at_idx" ON "counter_events"("applied_at");

