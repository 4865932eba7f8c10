<?php
/*
 * Plugin Name: picbed webhook
 * Description: Tells picbed when a post or page is published or updated, so picbed moves its images and writes the post back. WordPress core sends no webhooks; install this file as a must-use plugin (wp-content/mu-plugins/picbed-webhook.php) and define in wp-config.php:
 *   define('PICBED_WEBHOOK_URL', 'https://img.example.com/webhook');
 *   define('PICBED_WEBHOOK_SECRET', '<the same value as picbed's PICBED_WEBHOOK_SECRET>');
 * The body is {"event", "post": {"id", "post_type", "modified_gmt"}, "sent"} signed X-Hub-Signature-256: sha256=HMAC(secret, body).
 * picbed reads the post itself through the REST API (PICBED_WP_URL), so nothing else is sent.
 */
add_action('wp_after_insert_post', function ($post_id, $post, $update, $post_before) {
    if (!defined('PICBED_WEBHOOK_URL') || !defined('PICBED_WEBHOOK_SECRET')) return;
    if (!in_array($post->post_type, ['post', 'page'], true) || $post->post_status !== 'publish') return;
    if (wp_is_post_revision($post_id) || wp_is_post_autosave($post_id)) return;
    $event = ($post_before && $post_before->post_status === 'publish') ? 'post.updated' : 'post.published';
    $body = wp_json_encode(['event' => $event, 'post' => ['id' => $post_id, 'post_type' => $post->post_type,
        'modified_gmt' => $post->post_modified_gmt], 'sent' => microtime(true)]);
    wp_remote_post(PICBED_WEBHOOK_URL, ['body' => $body, 'timeout' => 3, 'headers' => [
        'Content-Type' => 'application/json', 'X-WP-Event' => $event,
        'X-Hub-Signature-256' => 'sha256=' . hash_hmac('sha256', $body, PICBED_WEBHOOK_SECRET)]]);
}, 10, 4);
