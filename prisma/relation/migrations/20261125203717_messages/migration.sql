-- CreateTable
CREATE TABLE "messages" (
    "id" BIGINT NOT NULL,
    "from_user_id" BIGINT NOT NULL,
    "to_user_id" BIGINT NOT NULL,
    "user_low" BIGINT NOT NULL,
    "user_high" BIGINT NOT NULL,
    "content" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "messages_conversation_idx" ON "messages"("user_low", "user_high", "created_at" DESC);

