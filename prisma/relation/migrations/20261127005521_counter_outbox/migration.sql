-- DropTable
DROP TABLE "counter_events";

-- CreateTable
CREATE TABLE "counter_outbox" (
    "id" BIGSERIAL NOT NULL,
    "changes" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "counter_outbox_pkey" PRIMARY KEY ("id")
);

